// A zone with keys, compiled and signed: the published keys' DNSKEY (and, when asked, CDS and
// CDNSKEY) RRsets join the apex, then every authoritative RRset is signed by every active key
// (during a roll both keys sign: the double-signature roll of RFC 6781 §4.1.2, which a CSK needs).
// Signatures of RRsets unchanged since the last signing are reused until they are due.

import type { CompiledRRset } from '../dns/plan.ts'
import { RRType } from '../dns/types.ts'
import { compileZone, type CompiledZone } from '../zone/compile.ts'
import type { RRset, Zone, ZoneNode } from '../zone/model.ts'
import type { ZoneKey } from './key-file.ts'
import { isActive, isPublished, nextKeyEvent } from './key-timing.ts'
import { DNSKEY_FLAGS_SEP, dsRdata } from './records.ts'
import { canonicalRRset, signatureKey, signCanonical, type SignatureTimes, type Signed, type SigningKey } from './rrsig.ts'

export type DnssecSettings = {
  readonly times: SignatureTimes
  readonly dnskeyTtl: number
  readonly publishCds: boolean
  /** Signatures made at query time that each thread keeps. */
  readonly cacheSize: number
}

/** What answering signed needs of one zone: its keys, its static signatures, and how to sign more. */
export type ZoneSigning = {
  /** The zone's origin: the RRSIG signer name. */
  readonly signer: Uint8Array
  readonly keys: readonly SigningKey[]
  /** The keys and signature times as text: part of every signature cache key, so no key change reuses one. */
  readonly keysId: string
  readonly times: SignatureTimes
  /** The RRSIG of every authoritative RRset compiled from the zone file and the keys. */
  readonly statics: ReadonlyMap<CompiledRRset, Signed>
}

export type SignedZone = {
  readonly zone: CompiledZone
  /** Undefined when no key is active now: the zone is served unsigned. */
  readonly signing: ZoneSigning | undefined
  /** Signatures by content key, for the next signing to reuse. */
  readonly signatures: ReadonlyMap<string, Signed>
  /** When this zone must be signed again: a static signature falls due or a key's timing passes. */
  readonly nextEventS: number | undefined
}

/** `keys`: this zone's keys; `previous`: signatures by content key from the last signing. */
export function signZone(model: Zone, keys: readonly ZoneKey[], settings: DnssecSettings, nowS: number, previous: ReadonlyMap<string, Signed>, random: () => number = Math.random): SignedZone {
  const published = keys.filter((k) => isPublished(k, nowS))
  const active = keys.filter((k) => isActive(k, nowS))
  const keyEvent = nextKeyEvent(keys, nowS)
  const withKeys = withKeyRecords(model, published, settings)
  if (active.length === 0) return { zone: compileZone(withKeys), signing: undefined, signatures: new Map(), nextEventS: keyEvent }

  const signingKeys = active.map((k): SigningKey => ({ tag: k.tag, algorithm: k.algorithm, privateKey: k.privateKey }))
  const keysId = `${signingKeys.map((k) => `${k.algorithm}/${k.tag}`).join(',')} ${settings.times.validityS}`
  const toSign: [ZoneNode, CompiledRRset][] = []
  const zone = compileZone(withKeys, (node, rrset) => {
    // Below a zone cut only the cut's DS is ours (RFC 4035 §2.2); NS there and glue are not signed.
    if (!node.cut || (node.cut === node && rrset.type === RRType.DS)) toSign.push([node, rrset])
  })
  const statics = new Map<CompiledRRset, Signed>()
  const signatures = new Map<string, Signed>()
  let refreshAt = Infinity
  for (const [node, rrset] of toSign) {
    const canonical = canonicalRRset(node.name, rrset.type, rrset.ttl, rrset.records)
    const key = signatureKey(keysId, canonical)
    const reused = previous.get(key)
    const signed = reused && reused.refreshAt > nowS ? reused : signCanonical(signingKeys, model.origin, settings.times, node.name, rrset.type, rrset.ttl, canonical, nowS, random())
    statics.set(rrset, signed)
    signatures.set(key, signed)
    refreshAt = Math.min(refreshAt, signed.refreshAt)
  }
  const signing: ZoneSigning = Object.freeze({ signer: model.origin, keys: signingKeys, keysId, times: settings.times, statics })
  return { zone, signing, signatures, nextEventS: Math.min(refreshAt, keyEvent ?? Infinity) }
}

/** The zone with the published keys' DNSKEY RRset at its apex (and CDS/CDNSKEY of its SEP keys, RFC 8078 §4). */
function withKeyRecords(model: Zone, published: readonly ZoneKey[], settings: DnssecSettings): Zone {
  if (published.length === 0) return model
  const rrset = (type: number, wires: readonly Uint8Array[]): RRset => ({ type, ttl: settings.dnskeyTtl, rdatas: wires.map((wire) => ({ wire, names: [] })), file: published[0]!.file, line: 0 })
  const rrsets = new Map(model.apex.rrsets)
  rrsets.set(RRType.DNSKEY, rrset(RRType.DNSKEY, published.map((k) => k.rdata)))
  const sep = published.filter((k) => (k.flags & DNSKEY_FLAGS_SEP) !== 0)
  if (settings.publishCds && sep.length > 0) {
    rrsets.set(RRType.CDNSKEY, rrset(RRType.CDNSKEY, sep.map((k) => k.rdata)))
    rrsets.set(RRType.CDS, rrset(RRType.CDS, sep.map((k) => dsRdata(model.origin, k.rdata))))
  }
  const apex: ZoneNode = { ...model.apex, rrsets }
  const nodes = new Map(model.nodes)
  nodes.set(apex.key, apex)
  return { ...model, apex, nodes }
}
