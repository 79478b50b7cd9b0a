// Compile, don't interpret: when a zone is loaded, every RRset is encoded to wire form and every
// answer a node can give (per type, NODATA, CNAME chains, referral, wildcard synthesis) becomes a
// ready AnswerPlan. A query then only finds the node and copies bytes (NSD and Knot work this way).

import { isSubdomain, labelOffsets, nameKey } from '../dns/name.ts'
import { RRType, Rcode } from '../dns/types.ts'
import { AT_QNAME, makePlan, NO_NAME, NO_TYPE, NONE, type AnswerPlan, type CompiledRRset, type CompiledRecord, type OwnerRef, type RRsetRef } from '../dns/plan.ts'
import type { RData } from './rdata.ts'
import type { RRset, Zone, ZoneNode } from './model.ts'
import { closestEncloser, wildcardKey } from './lookup.ts'

/** Answers a node gives for a query name that is the node's own name, or one it synthesizes (wildcard). */
export type NodePlans = {
  /** Types with an answer, and the answer for each at the same index (a few entries: scanning beats a Map, in memory too). */
  readonly types: readonly number[]
  readonly answers: readonly AnswerPlan[]
  /** For any type not in `types`: NODATA, or the CNAME chain followed to its end. */
  readonly otherwise: AnswerPlan
  /** RFC 8482: one RRset rather than all of them. */
  readonly any: AnswerPlan
}

/** A node's own answers (NodePlans), and how its position in the zone changes them. */
export type CompiledNode = NodePlans & {
  /** Referral to the zone cut at or above this node; the node's own data is not authoritative. */
  readonly referral: AnswerPlan | undefined
  /** True at a zone cut: DS there is answered from this (parent) side, RFC 4035 §3.1.4.1. */
  readonly isCut: boolean
  /** Plans for names synthesized from the `*` child of this node (RFC 4592), if it has one. */
  readonly wildcard: NodePlans | undefined
}

export type CompiledZone = {
  readonly origin: Uint8Array
  readonly serial: number
  readonly file: string
  readonly key: string
  readonly nodes: ReadonlyMap<string, CompiledNode>
  readonly nxdomain: AnswerPlan
  /** The NODATA answer (SOA with the negative TTL); GSLB names reuse it. */
  readonly nodata: AnswerPlan
}

const CLASS_IN = 1
const MAX_CNAME_CHAIN = 8
/** Types whose RDATA names are lowercased in DNSSEC's canonical form (RFC 4034 §6.2, RFC 6840 §5.1). */
const CANONICAL_LOWERCASE: ReadonlySet<number> = new Set([RRType.NS, RRType.CNAME, RRType.SOA, RRType.PTR, RRType.MX, RRType.SRV, 3, 4, 7, 8, 9, 14, 17, 18, 21, 24, 26, 36, 39])

/** A zone RRset as compiled, with its owner node: what compileZone shows its `onRRset` watcher. */
export type RRsetWatcher = (node: ZoneNode, rrset: CompiledRRset) => void

/** The RDATA with its names lowercased, or undefined when that changes nothing. */
function canonicalRdata(type: number, rdata: RData): Uint8Array | undefined {
  if (!CANONICAL_LOWERCASE.has(type)) return undefined
  let lowered: Uint8Array | undefined
  for (const name of rdata.names) {
    for (let i = name.offset; i < name.offset + name.length; i++) {
      const b = rdata.wire[i] as number
      if (b < 0x41 || b > 0x5a) continue
      lowered ??= Uint8Array.from(rdata.wire)
      // Label length bytes are at most 63 (below 'A'), so only letters change.
      lowered[i] = b | 0x20
    }
  }
  return lowered
}

/** Encodes an RRset's records, compressing eligible names in the data against `context`. */
export function compileRRset(type: number, ttl: number, rdatas: readonly RData[], context: Uint8Array): CompiledRRset {
  const records = rdatas.map((rdata): CompiledRecord => {
    if (rdata.names.length === 0) {
      const plain = withFixedFields(type, ttl, rdata.wire)
      return { body: plain, patches: NONE, plain }
    }
    const canonical = canonicalRdata(type, rdata)
    const compressed: number[] = []
    const patches: number[] = []
    let at = 0
    for (const name of rdata.names) {
      compressed.push(...rdata.wire.subarray(at, name.offset))
      const wire = rdata.wire.subarray(name.offset, name.offset + name.length)
      const shared = name.compressible ? sharedSuffix(wire, context) : undefined
      if (shared) {
        compressed.push(...wire.subarray(0, shared.nameOffset))
        patches.push(10 + compressed.length, shared.contextOffset)
        compressed.push(0xc0, 0)
      } else {
        compressed.push(...wire)
      }
      at = name.offset + name.length
    }
    compressed.push(...rdata.wire.subarray(at))
    const plain = withFixedFields(type, ttl, rdata.wire)
    const body = patches.length > 0 ? withFixedFields(type, ttl, compressed) : plain
    return canonical ? { body, patches, plain, canonical } : { body, patches, plain }
  })
  return Object.freeze({ type, ttl, contextLength: context.length, records })
}

function withFixedFields(type: number, ttl: number, rdata: ArrayLike<number>): Uint8Array {
  // allocUnsafe takes small buffers from Node's shared pool: far less memory per record than alloc.
  const out = Buffer.allocUnsafe(10 + rdata.length)
  out.writeUInt16BE(type, 0)
  out.writeUInt16BE(CLASS_IN, 2)
  out.writeUInt32BE(ttl, 4)
  out.writeUInt16BE(rdata.length, 8)
  out.set(rdata, 10)
  return out
}

/** Longest label-aligned, non-root suffix `name` shares with `context` (case-insensitive). */
function sharedSuffix(name: Uint8Array, context: Uint8Array): { nameOffset: number; contextOffset: number } | undefined {
  const contextOffsets = new Set(labelOffsets(context))
  for (const nameOffset of labelOffsets(name)) {
    const length = name.length - nameOffset
    const contextOffset = context.length - length
    if (length <= 1) return undefined
    if (contextOffset >= 0 && contextOffsets.has(contextOffset) && nameKey(name, nameOffset) === nameKey(context, contextOffset)) {
      return { nameOffset, contextOffset }
    }
  }
  return undefined
}


/** `refs` and then `ref`, in an array of exactly that size (spread leaves spare capacity). */
function withRef(refs: readonly RRsetRef[], ref: RRsetRef): RRsetRef[] {
  return refs.length === 0 ? [ref] : refs.concat([ref])
}

/** Compiles a checked zone into per-node answer plans; `onRRset` sees each node's RRsets as compiled (a signer signs them). */
export function compileZone(zone: Zone, onRRset?: RRsetWatcher): CompiledZone {
  const apex = zone.apex
  const soa = apex.rrsets.get(RRType.SOA) as RRset
  const soaMinimum = Buffer.from((soa.rdatas[0] as RData).wire).readUInt32BE((soa.rdatas[0] as RData).wire.length - 4)
  // RFC 2308 §5: the negative-answer SOA carries min(SOA TTL, SOA MINIMUM).
  const negativeSoa: RRsetRef = { rrset: compileRRset(RRType.SOA, Math.min(soa.ttl, soaMinimum), soa.rdatas, zone.origin), owner: { kind: 'suffix', wireLength: zone.origin.length } }

  // Pass 1: every RRset compiled against its own owner name.
  const own = new Map<ZoneNode, Map<number, CompiledRRset>>()
  for (const node of zone.nodes.values()) {
    const rrsets = new Map<number, CompiledRRset>()
    for (const [type, r] of node.rrsets) {
      const rrset = compileRRset(type, r.ttl, r.rdatas, node.name)
      rrsets.set(type, rrset)
      onRRset?.(node, rrset)
    }
    own.set(node, rrsets)
  }
  const compiled = (node: ZoneNode, type: number): CompiledRRset => own.get(node)?.get(type) as CompiledRRset

  /** Where a name sits relative to the query: a suffix of `anchor` (itself a suffix of the query name) or written out. */
  const ownerOf = (name: Uint8Array, anchor: Uint8Array): OwnerRef =>
    isSubdomain(anchor, name) ? { kind: 'suffix', wireLength: name.length } : { kind: 'name', wire: name }

  /** A/AAAA RRsets of in-zone, authoritative targets named in `rrsets` (RFC 1034 §4.3.2 step 6). */
  const additionalFor = (types: readonly RRset[], glue: boolean): RRsetRef[] => {
    const refs: RRsetRef[] = []
    const seen = new Set<string>()
    for (const rrset of types) {
      if (rrset.type !== RRType.NS && rrset.type !== RRType.MX && rrset.type !== RRType.SRV) continue
      for (const rdata of rrset.rdatas) {
        const target = rdata.names[0]
        if (!target) continue
        const wire = rdata.wire.subarray(target.offset, target.offset + target.length)
        const key = nameKey(wire)
        const node = zone.nodes.get(key)
        if (!node || seen.has(key) || (node.cut && !glue)) continue
        seen.add(key)
        for (const type of [RRType.A, RRType.AAAA]) {
          if (node.rrsets.has(type)) refs.push({ rrset: compiled(node, type), owner: { kind: 'name', wire: node.name } })
        }
      }
    }
    return refs
  }

  const referralFor = (cut: ZoneNode): AnswerPlan => {
    const ns = cut.rrsets.get(RRType.NS) as RRset
    const glue = additionalFor([ns], true)
    const owner: OwnerRef = { kind: 'suffix', wireLength: cut.name.length }
    const ds = own.get(cut)?.get(RRType.DS)
    const denial = { owner, types: [...cut.rrsets.keys()], ...(ds ? { ds } : {}) }
    return makePlan(Rcode.NOERROR, [], [{ rrset: compiled(cut, RRType.NS), owner }], glue, false, true, denial)
  }
  const referrals = new Map<ZoneNode, AnswerPlan>()
  const referralOf = (cut: ZoneNode): AnswerPlan => {
    let existing = referrals.get(cut)
    if (!existing) referrals.set(cut, (existing = referralFor(cut)))
    return existing
  }

  /**
   * The answer for `qtype` at `node`, whose data is owned by `owner` and compiled in `rrsets`,
   * following CNAMEs inside the zone (RFC 1034 §4.3.2 step 3a; RFC 6604 for the final rcode).
   */
  const nodata = makePlan(Rcode.NOERROR, [], [negativeSoa], [], true, false, NO_TYPE)

  const emptyNodePlans: NodePlans = Object.freeze({ types: NONE, answers: NONE, otherwise: nodata, any: nodata })

  const answerAt = (node: ZoneNode, rrsets: ReadonlyMap<number, CompiledRRset>, owner: OwnerRef, qtype: number, anchor: Uint8Array, chain: RRsetRef[], depth: number): AnswerPlan => {
    const direct = rrsets.get(qtype)
    if (direct) {
      const answer = withRef(chain, { rrset: direct, owner })
      return makePlan(Rcode.NOERROR, answer, [], additionalFor([node.rrsets.get(qtype) as RRset], false))
    }
    const cname = rrsets.get(RRType.CNAME)
    if (!cname || qtype === RRType.CNAME) return chain.length === 0 ? nodata : makePlan(Rcode.NOERROR, chain, [negativeSoa], [], true, false, { owner, types: [...node.rrsets.keys()] })
    const answer = withRef(chain, { rrset: cname, owner })
    const targetRdata = (node.rrsets.get(RRType.CNAME) as RRset).rdatas[0] as RData
    const target = targetRdata.wire
    if (depth >= MAX_CNAME_CHAIN || !isSubdomain(target, zone.origin)) return makePlan(Rcode.NOERROR, answer, [], [])
    const found = closestEncloser(zone.nodes, nameKey(target))
    if (found.node.cut) return makePlan(Rcode.NOERROR, answer, [], [])
    if (found.exact) return answerAt(found.node, own.get(found.node) as Map<number, CompiledRRset>, ownerOf(target, anchor), qtype, anchor, answer, depth + 1)
    const star = zone.nodes.get(wildcardKey(found.node.key))
    if (!star) return makePlan(Rcode.NXDOMAIN, answer, [negativeSoa], [], true, false, { owner: { kind: 'name', wire: target }, types: 'nxname' })
    return answerAt(star, synthesized(star), { kind: 'name', wire: target }, qtype, anchor, answer, depth + 1)
  }

  const nodePlans = (node: ZoneNode, rrsets: ReadonlyMap<number, CompiledRRset>, owner: OwnerRef, anchor: Uint8Array): NodePlans => {
    if (rrsets.size === 0) return emptyNodePlans
    const types: number[] = []
    const answers: AnswerPlan[] = []
    const add = (type: number): void => {
      types.push(type)
      answers.push(answerAt(node, rrsets, owner, type, anchor, [], 0))
    }
    for (const type of rrsets.keys()) add(type)
    const hasCname = rrsets.has(RRType.CNAME)
    // Through a CNAME, the types the chain's end has are answerable too.
    if (hasCname) for (const type of chainEndTypes(node)) if (!types.includes(type)) add(type)
    const otherwise = hasCname ? answerAt(node, rrsets, owner, -1, anchor, [], 0) : nodata
    const anyType = hasCname ? RRType.CNAME : Math.min(...rrsets.keys())
    // slice(): arrays grown by push keep spare capacity; a zone of 100,000 names feels that.
    return Object.freeze({ types: types.slice(), answers: answers.slice(), otherwise, any: answers[types.indexOf(anyType)] as AnswerPlan })
  }

  const chainEndTypes = (start: ZoneNode): number[] => {
    let node = start
    for (let depth = 0; depth < MAX_CNAME_CHAIN; depth++) {
      const cname = node.rrsets.get(RRType.CNAME)
      if (!cname) return [...node.rrsets.keys()]
      const target = (cname.rdatas[0] as RData).wire
      if (!isSubdomain(target, zone.origin)) return []
      const found = closestEncloser(zone.nodes, nameKey(target))
      const next = found.exact ? found.node : zone.nodes.get(wildcardKey(found.node.key))
      if (!next || next.cut) return []
      node = next
    }
    return []
  }

  // Wildcard data is compiled against the wildcard's parent, the part every synthesized owner shares.
  const synthesizedCache = new Map<ZoneNode, Map<number, CompiledRRset>>()
  const synthesized = (star: ZoneNode): Map<number, CompiledRRset> => {
    let rrsets = synthesizedCache.get(star)
    if (!rrsets) {
      const parent = star.name.subarray(2)
      rrsets = new Map([...star.rrsets].map(([type, r]) => [type, compileRRset(type, r.ttl, r.rdatas, parent)]))
      synthesizedCache.set(star, rrsets)
    }
    return rrsets
  }

  const nodes = new Map<string, CompiledNode>()
  for (const node of zone.nodes.values()) {
    const star = zone.nodes.get(wildcardKey(node.key))
    nodes.set(node.key, Object.freeze({
      ...nodePlans(node, own.get(node) as Map<number, CompiledRRset>, AT_QNAME, node.name),
      referral: node.cut ? referralOf(node.cut) : undefined,
      isCut: node.cut === node,
      wildcard: star && !node.cut ? nodePlans(star, synthesized(star), AT_QNAME, node.name) : undefined,
    }))
  }
  return Object.freeze({ origin: zone.origin, serial: zone.serial, file: zone.file, key: zone.key, nodes, nxdomain: makePlan(Rcode.NXDOMAIN, [], [negativeSoa], [], true, false, NO_NAME), nodata })
}
