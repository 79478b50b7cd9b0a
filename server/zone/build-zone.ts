// Parsed records into the zone model (model.ts): records grouped into RRsets per owner node, every
// empty non-terminal present as a node (RFC 4592 §2.2.2 needs them to tell NODATA from NXDOMAIN),
// and each node's place relative to zone cuts worked out once; then the checks of check-zone.ts.

import { isSubdomain, nameKey, parentName } from '../dns/name.ts'
import { RRType } from '../dns/types.ts'
import type { Problem } from '../common/problem.ts'
import { checkZone } from './check-zone.ts'
import type { ParsedZone, ZoneRecord } from './parse-zone.ts'
import type { RData } from './rdata.ts'
import type { RRset, Zone, ZoneNode } from './model.ts'

export type ZoneResult = { readonly ok: true; readonly zone: Zone } | { readonly ok: false; readonly problems: readonly Problem[] }

type MutableRRset = { readonly type: number; readonly ttl: number; readonly rdatas: RData[]; readonly file: string; readonly line: number }
type MutableNode = { readonly name: Uint8Array; readonly key: string; readonly rrsets: Map<number, MutableRRset> }

/** Groups a parsed zone into nodes and RRsets, then checks it; a zone with any problem is refused whole. */
export function buildZone(parsed: ParsedZone, file: string): ZoneResult {
  const { origin } = parsed
  const outOfZone: Problem[] = []
  const nodes = new Map<string, MutableNode>()
  const nodeFor = (name: Uint8Array): MutableNode => {
    const key = nameKey(name)
    let node = nodes.get(key)
    if (!node) {
      node = { name, key, rrsets: new Map() }
      nodes.set(key, node)
    }
    return node
  }
  nodeFor(origin)
  for (const record of parsed.records) {
    if (!isSubdomain(record.owner, origin)) {
      outOfZone.push(outOfZoneProblem(record, file))
      continue
    }
    addRecord(nodeFor(record.owner), record)
    // Empty non-terminals between the owner and the apex.
    for (let up = parentName(record.owner); up.length > origin.length; up = parentName(up)) nodeFor(up)
  }
  const zoneNodes = freezeNodes(nodes, origin)
  const apex = zoneNodes.get(nameKey(origin)) as ZoneNode
  const problems = [...outOfZone, ...checkZone(apex, zoneNodes, file)]
  if (problems.length > 0) return { ok: false, problems }
  const soa = apex.rrsets.get(RRType.SOA)?.rdatas[0] as RData
  const serial = Buffer.from(soa.wire).readUInt32BE(soa.wire.length - 20)
  return { ok: true, zone: { origin, key: nameKey(origin), file, apex, nodes: zoneNodes, serial } }
}

function outOfZoneProblem(record: ZoneRecord, file: string): Problem {
  return { code: 'out-of-zone', file: record.file, line: record.line, message: `owner is outside the zone of ${file}` }
}

function addRecord(node: MutableNode, record: ZoneRecord): void {
  const rrset = node.rrsets.get(record.type)
  if (!rrset) {
    node.rrsets.set(record.type, { type: record.type, ttl: record.ttl, rdatas: [record.rdata], file: record.file, line: record.line })
    return
  }
  // Identical records are one record (RFC 2181 §5).
  if (rrset.rdatas.some((r) => Buffer.compare(r.wire, record.rdata.wire) === 0)) return
  rrset.rdatas.push(record.rdata)
}

/** Freezes nodes parents-first so each node can point at the zone cut above it. */
function freezeNodes(nodes: Map<string, MutableNode>, origin: Uint8Array): Map<string, ZoneNode> {
  const originKey = nameKey(origin)
  const frozen = new Map<string, ZoneNode>()
  const byDepth = [...nodes.values()].sort((a, b) => a.name.length - b.name.length)
  for (const node of byDepth) {
    const parent = node.key === originKey ? undefined : frozen.get(nameKey(parentName(node.name)))
    const isCut = node.key !== originKey && node.rrsets.has(RRType.NS)
    const value: { name: Uint8Array; key: string; rrsets: ReadonlyMap<number, RRset>; cut: ZoneNode | undefined } = { name: node.name, key: node.key, rrsets: node.rrsets, cut: parent?.cut }
    if (isCut && !value.cut) value.cut = value
    frozen.set(node.key, Object.freeze(value))
  }
  return frozen
}
