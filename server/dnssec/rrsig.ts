// RRSIG records (RFC 4034 §3) over RRsets as the reply carries them: the RRset in canonical form
// (§6: owner and RDATA names lowercased, records sorted by RDATA), signed by each of the zone's
// active keys. The same canonical bytes key the signature caches, so equal RRsets share a signature.

import type { KeyObject } from 'node:crypto'
import { nameKey } from '../dns/name.ts'
import { NONE, type CompiledRecord, type CompiledRRset } from '../dns/plan.ts'
import { RRType } from '../dns/types.ts'
import { signData, type AlgorithmNumber } from './algorithm.ts'

export type SigningKey = { readonly tag: number; readonly algorithm: AlgorithmNumber; readonly privateKey: KeyObject }

/** How long signatures live: valid for `validityS` less up to `jitterS`, made again when `refreshS` is left. */
export type SignatureTimes = { readonly validityS: number; readonly refreshS: number; readonly jitterS: number }

/** An RRSIG RRset and when it must be made again. */
export type Signed = { readonly rrsig: CompiledRRset; readonly refreshAt: number }

/** Signatures start an hour back, for validators whose clocks are behind (RFC 6781 §4.4.2.2). */
const INCEPTION_BACK_S = 3600
const CLASS_IN = 1

/**
 * The RRset's records in canonical form, concatenated in canonical order (RFC 4034 §6.3), for the
 * owner `owner` (wire, any case) and TTL `ttl`: what a signature covers after its RRSIG fields.
 */
export function canonicalRRset(owner: Uint8Array, type: number, ttl: number, records: readonly CompiledRecord[]): Buffer {
  const ownerBytes = Buffer.from(nameKey(owner), 'latin1')
  const rdatas = records.map((r) => r.canonical ?? r.plain.subarray(10))
  rdatas.sort((a, b) => Buffer.compare(a, b))
  const unique = rdatas.filter((r, i) => i === 0 || Buffer.compare(r, rdatas[i - 1] as Uint8Array) !== 0)
  const out = Buffer.allocUnsafe(unique.reduce((n, r) => n + ownerBytes.length + 10 + r.length, 0))
  let pos = 0
  for (const rdata of unique) {
    out.set(ownerBytes, pos)
    pos += ownerBytes.length
    pos = out.writeUInt16BE(type, pos)
    pos = out.writeUInt16BE(CLASS_IN, pos)
    pos = out.writeUInt32BE(ttl, pos)
    pos = out.writeUInt16BE(rdata.length, pos)
    out.set(rdata, pos)
    pos += rdata.length
  }
  return out
}

// Signatures that are kept are cut from slabs of their own. In Buffer's shared pool they would sit
// beside the transient buffers signing makes (canonical forms, signed data), and each kept slice
// would keep its whole pool chunk alive: 100,000 static signatures held 40 MB more that way.
const SLAB = 64 * 1024
let slab = new ArrayBuffer(SLAB)
let slabUsed = 0

function keptBytes(length: number): Buffer {
  if (slabUsed + length > SLAB) {
    slab = new ArrayBuffer(SLAB)
    slabUsed = 0
  }
  const bytes = Buffer.from(slab, slabUsed, length)
  slabUsed += length
  return bytes
}

/**
 * What a signature is cached and reused by: the signing keys and times (`keysId`, so a key change
 * never reuses one) and the canonical RRset it covers.
 */
export function signatureKey(keysId: string, canonical: Buffer): string {
  return keysId + canonical.toString('latin1')
}

/** RRSIG's Labels field: the owner's labels, less a leading `*` (RFC 4034 §3.1.3). */
export function labelCount(owner: Uint8Array): number {
  let count = 0
  for (let at = 0; owner[at] !== 0; at += (owner[at] as number) + 1) count++
  return owner[0] === 1 && owner[1] === 0x2a ? count - 1 : count
}

/**
 * The RRSIG RRset for `canonical` (from canonicalRRset) owned by `owner`, one record per key,
 * signed at `nowS`; `random` (0 to 1) draws this signature's jitter.
 */
export function signCanonical(keys: readonly SigningKey[], signer: Uint8Array, times: SignatureTimes, owner: Uint8Array, type: number, ttl: number, canonical: Uint8Array, nowS: number, random: number): Signed {
  const expiration = nowS + times.validityS - Math.floor(random * times.jitterS)
  const inception = nowS - INCEPTION_BACK_S
  const signerBytes = Buffer.from(nameKey(signer), 'latin1')
  const records = keys.map((key): CompiledRecord => {
    // The signed data: the RRSIG's fields, then the canonical RRset (RFC 4034 §3.1.8.1).
    const data = Buffer.allocUnsafe(18 + signerBytes.length + canonical.length)
    const fields = data.subarray(0, 18 + signerBytes.length)
    fields.writeUInt16BE(type, 0)
    fields[2] = key.algorithm
    fields[3] = labelCount(owner)
    fields.writeUInt32BE(ttl, 4)
    fields.writeUInt32BE(expiration >>> 0, 8)
    fields.writeUInt32BE(inception >>> 0, 12)
    fields.writeUInt16BE(key.tag, 16)
    fields.set(signerBytes, 18)
    data.set(canonical, fields.length)
    const signature = signData(key.algorithm, key.privateKey, data)
    const plain = keptBytes(10 + fields.length + signature.length)
    plain.writeUInt16BE(RRType.RRSIG, 0)
    plain.writeUInt16BE(CLASS_IN, 2)
    plain.writeUInt32BE(ttl, 4)
    plain.writeUInt16BE(fields.length + signature.length, 8)
    plain.set(fields, 10)
    plain.set(signature, 10 + fields.length)
    // The signer's name is never compressed (RFC 4034 §3.1.7): the record is its own body.
    return { body: plain, patches: NONE, plain }
  })
  return { rrsig: Object.freeze({ type: RRType.RRSIG, ttl, contextLength: 0, records }), refreshAt: expiration - times.refreshS }
}
