// The records a key makes (RFC 4034 §2, §5; RFC 8078): DNSKEY and CDNSKEY data, the key tag, and
// DS / CDS data with a SHA-256 digest (RFC 4509).

import { createHash } from 'node:crypto'
import { nameKey } from '../dns/name.ts'

export const DNSKEY_FLAGS_ZONE = 0x0100
/** Secure Entry Point: the key a DS points at. A CSK has both (257). */
export const DNSKEY_FLAGS_SEP = 0x0001
export const DIGEST_SHA256 = 2

/** DNSKEY RDATA: flags, protocol 3, algorithm, public key. */
export function dnskeyRdata(flags: number, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4 + publicKey.length)
  out.writeUInt16BE(flags, 0)
  out[2] = 3
  out[3] = algorithm
  out.set(publicKey, 4)
  return out
}

/** RFC 4034 Appendix B: the 16-bit checksum of the DNSKEY RDATA. */
export function keyTag(rdata: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < rdata.length; i++) sum += i & 1 ? (rdata[i] as number) : (rdata[i] as number) << 8
  sum += (sum >>> 16) & 0xffff
  return sum & 0xffff
}

/** DS RDATA for a DNSKEY owned by `owner` (wire): key tag, algorithm, SHA-256, digest of owner | DNSKEY RDATA. */
export function dsRdata(owner: Uint8Array, dnskey: Uint8Array): Uint8Array {
  const canonicalOwner = Buffer.from(nameKey(owner), 'latin1')
  const digest = createHash('sha256').update(canonicalOwner).update(dnskey).digest()
  const out = Buffer.alloc(4 + digest.length)
  out.writeUInt16BE(keyTag(dnskey), 0)
  out[2] = dnskey[3] as number
  out[3] = DIGEST_SHA256
  out.set(digest, 4)
  return out
}
