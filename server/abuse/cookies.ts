// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018: version 1, three
// reserved zero bytes, a timestamp, and SipHash-2-4 (the `siphash24` package) under the server
// secret over client cookie | version | reserved | timestamp | client address. Instances that
// share the secret accept each other's cookies, whatever implementation made them.

import siphash24 from 'siphash24'
import type { CookieSecrets } from './settings.ts'

export const CookieCheck = { new: 0, valid: 1, invalid: 2 } as const
export const COOKIE_CHECKS = ['new', 'valid', 'invalid'] as const

/** RFC 9018 §4.3: older than an hour or more than five minutes ahead is invalid; past half an hour, a new one is sent. */
const MAX_AGE_S = 3600
const MAX_AHEAD_S = 300
const RENEW_AFTER_S = 1800
const VERSION = 1

// One message and hash buffer per thread: cookies are made synchronously on the query path.
const message = new Uint8Array(8 + 8 + 16)
const forIpv4 = message.subarray(0, 8 + 8 + 4)
const hash = new Uint8Array(8)

/**
 * Checks the COOKIE option at `packet[at..at+length)` (a client cookie, maybe a server cookie)
 * from `address` (its first `addressLength` bytes) at `nowS` Unix seconds, and writes into `out`
 * (16 bytes) the server cookie to answer with. Returns a CookieCheck.
 */
export function checkCookie(secrets: CookieSecrets, packet: Uint8Array, at: number, length: number, address: Uint8Array, addressLength: number, nowS: number, out: Uint8Array): number {
  if (length === 8) {
    makeServerCookie(secrets.current, packet, at, nowS, address, addressLength, out)
    return CookieCheck.new
  }
  const age = length === 8 + 16 && packet[at + 8] === VERSION && packet[at + 9] === 0 && packet[at + 10] === 0 && packet[at + 11] === 0
    ? (nowS - readU32(packet, at + 12)) | 0 // RFC 1982 serial arithmetic: the timestamp wraps
    : undefined
  const valid = age !== undefined && age <= MAX_AGE_S && age >= -MAX_AHEAD_S &&
    (hashMatches(secrets.current, packet, at, address, addressLength) ||
      (secrets.previous !== undefined && nowS < secrets.previousUntil && hashMatches(secrets.previous, packet, at, address, addressLength)))
  if (valid && age <= RENEW_AFTER_S) {
    for (let i = 0; i < 16; i++) out[i] = packet[at + 8 + i] as number
  } else {
    makeServerCookie(secrets.current, packet, at, nowS, address, addressLength, out)
  }
  return valid ? CookieCheck.valid : CookieCheck.invalid
}

/** The RFC 9018 server cookie for the client cookie at `packet[at..at+8)`, into `out` (16 bytes). */
export function makeServerCookie(secret: Uint8Array, packet: Uint8Array, at: number, timestamp: number, address: Uint8Array, addressLength: number, out: Uint8Array): void {
  out[0] = VERSION
  out[1] = out[2] = out[3] = 0
  out[4] = (timestamp >>> 24) & 0xff
  out[5] = (timestamp >>> 16) & 0xff
  out[6] = (timestamp >>> 8) & 0xff
  out[7] = timestamp & 0xff
  writeMessage(packet, at, out, 0, address, addressLength)
  siphash24(addressLength === 4 ? forIpv4 : message, secret, hash, true)
  out.set(hash, 8)
}

/** Whether the hash of the server cookie at `packet[at+8..at+24)` is the one `secret` makes. */
function hashMatches(secret: Uint8Array, packet: Uint8Array, at: number, address: Uint8Array, addressLength: number): boolean {
  writeMessage(packet, at, packet, at + 8, address, addressLength)
  siphash24(addressLength === 4 ? forIpv4 : message, secret, hash, true)
  let difference = 0
  for (let i = 0; i < 8; i++) difference |= (hash[i] as number) ^ (packet[at + 16 + i] as number)
  return difference === 0
}

/** client cookie | version, reserved, timestamp (8 bytes of `head` from `headAt`) | address. */
function writeMessage(packet: Uint8Array, at: number, head: Uint8Array, headAt: number, address: Uint8Array, addressLength: number): void {
  for (let i = 0; i < 8; i++) message[i] = packet[at + i] as number
  for (let i = 0; i < 8; i++) message[8 + i] = head[headAt + i] as number
  for (let i = 0; i < addressLength; i++) message[16 + i] = address[i] as number
}

function readU32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number)) >>> 0
}
