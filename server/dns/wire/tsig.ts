// TSIG (RFC 8945) on queries. We hold no TSIG keys (they come with zone transfers), so every key
// is unknown: a signed query gets NOTAUTH with an unsigned TSIG record whose error is BADKEY
// (§5.2, §5.3.2), never an unsigned answer the client would take as verified.

import { MAX_LABEL, MAX_NAME_WIRE } from '../name.ts'

/** What the reply's TSIG record echoes of the query's. */
export type TsigEcho = {
  /** Key name and algorithm name, uncompressed. */
  readonly keyName: Uint8Array
  readonly algorithm: Uint8Array
  /** Time Signed (48 bits) and Fudge, as the query had them. */
  readonly timeAndFudge: Uint8Array
  readonly originalId: number
}

export const TSIG_TYPE = 250
const CLASS_ANY = 255
/** RFC 8945 §5.2: the TSIG error for a key the server does not know. */
const BADKEY = 17

/**
 * The TSIG record whose owner starts at `at`, rdata at `rdataAt` and which ends at `end` in
 * `packet`, or undefined when it is malformed (→ FORMERR).
 */
export function readTsig(packet: Uint8Array, at: number, rdataAt: number, end: number): TsigEcho | undefined {
  const keyName = expandName(packet, at)
  const algorithm = expandName(packet, rdataAt)
  if (!keyName || !algorithm) return undefined
  const fixed = rdataAt + nameBytes(packet, rdataAt)
  if (fixed + 10 > end) return undefined
  const macSize = u16(packet, fixed + 8)
  const tail = fixed + 10 + macSize
  if (tail + 6 > end) return undefined
  const otherLength = u16(packet, tail + 4)
  if (tail + 6 + otherLength !== end) return undefined
  return { keyName, algorithm, timeAndFudge: packet.slice(fixed, fixed + 8), originalId: u16(packet, tail) }
}

/** Bytes the BADKEY TSIG record takes in a reply. */
export function tsigErrorLength(tsig: TsigEcho): number {
  return tsig.keyName.length + 10 + tsig.algorithm.length + 16
}

/** Writes the unsigned BADKEY TSIG record (MAC size 0, RFC 8945 §5.3.2) at `pos`; returns the end. */
export function writeTsigError(out: Uint8Array, pos: number, tsig: TsigEcho): number {
  out.set(tsig.keyName, pos)
  pos += tsig.keyName.length
  pos = put16(out, TSIG_TYPE, pos)
  pos = put16(out, CLASS_ANY, pos)
  pos = put16(out, 0, put16(out, 0, pos)) // TTL 0
  pos = put16(out, tsig.algorithm.length + 16, pos)
  out.set(tsig.algorithm, pos)
  pos += tsig.algorithm.length
  out.set(tsig.timeAndFudge, pos)
  pos += 8
  pos = put16(out, 0, pos) // MAC size
  pos = put16(out, tsig.originalId, pos)
  pos = put16(out, BADKEY, pos)
  return put16(out, 0, pos) // other length
}

/** The name at `at` with its pointers followed, as uncompressed wire bytes; undefined when malformed. */
function expandName(packet: Uint8Array, at: number): Uint8Array | undefined {
  const bytes: number[] = []
  for (let hops = 0; hops < 64; hops++) {
    const length = packet[at]
    if (length === undefined) return undefined
    if ((length & 0xc0) === 0xc0) {
      if (at + 1 >= packet.length) return undefined
      at = ((length & 0x3f) << 8) | (packet[at + 1] as number)
      continue
    }
    if (length > MAX_LABEL || at + 1 + length > packet.length || bytes.length + 1 + length > MAX_NAME_WIRE) return undefined
    for (let i = at; i <= at + length; i++) bytes.push(packet[i] as number)
    if (length === 0) return Uint8Array.from(bytes)
    at += length + 1
  }
  return undefined
}

/** How many bytes the well-formed name at `at` takes where it stands (a pointer ends it). */
function nameBytes(packet: Uint8Array, at: number): number {
  let pos = at
  for (;;) {
    const length = packet[pos] as number
    if ((length & 0xc0) === 0xc0) return pos + 2 - at
    pos += length + 1
    if (length === 0) return pos - at
  }
}

function u16(packet: Uint8Array, at: number): number {
  return ((packet[at] as number) << 8) | (packet[at + 1] as number)
}

function put16(out: Uint8Array, value: number, at: number): number {
  out[at] = value >>> 8
  out[at + 1] = value & 0xff
  return at + 2
}
