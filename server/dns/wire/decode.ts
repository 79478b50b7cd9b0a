// Query decoding with strict bounds checks. Every outcome is a value: a query, a reject that maps
// to an rcode (FORMERR / NOTIMP / NOTAUTH / BADVERS) with what the reply may echo, or a drop.
// Never throws.

import { MAX_LABEL, MAX_NAME_WIRE } from '../name.ts'
import { RRType, Rcode, type ClientSubnet, type Edns, type Query } from '../types.ts'
import { readTsig, type TsigEcho } from './tsig.ts'

/** Header fields every reply echoes. */
export type ReplyHeader = { readonly id: number; readonly opcode: number; readonly echoFlags: number }

export type Reject = {
  readonly kind: 'reject'
  readonly rcode: number
  readonly header: ReplyHeader
  /** Wire length of a well-formed question name at offset 12, or 0 when no question is echoed. */
  readonly nameLength: number
  readonly edns: Edns | undefined
  /** A signed query's TSIG, for the BADKEY record of its NOTAUTH reply. */
  readonly tsig?: TsigEcho
}

export type Drop = { readonly kind: 'drop'; readonly reason: 'short' | 'qr-set' }

/** A well-formed query is returned as it is (no wrapper object on the path every answer takes). */
export type Decoded = Query | Reject | Drop

const DROP_SHORT: Drop = Object.freeze({ kind: 'drop', reason: 'short' })
const DROP_QR_SET: Drop = Object.freeze({ kind: 'drop', reason: 'qr-set' })

const OPTION_ECS = 8
const OPTION_COOKIE = 10
const HEADER = 12
const FLAG_QR = 0x8000
const ECHO_FLAGS = 0x0100 | 0x0010 // RD, CD

export function decodeQuery(packet: Uint8Array): Decoded {
  if (packet.length < HEADER) return DROP_SHORT
  const flags = (packet[2] as number) << 8 | (packet[3] as number)
  // RFC 1035 §4.1.1: never answer a response (it could start a loop between servers).
  if (flags & FLAG_QR) return DROP_QR_SET
  const opcode = (flags >>> 11) & 0xf
  const qdcount = u16(packet, 4)
  const question = qdcount === 1 ? questionNameLength(packet) : -1
  // An opcode we don't implement: its flags mean nothing we know, so none is echoed.
  if (opcode !== 0) return { ...reject(packet, Rcode.NOTIMP, question > 0 && packet.length >= HEADER + question + 4 ? question : 0), header: { id: u16(packet, 0), opcode, echoFlags: 0 } }
  if (question < 0 || packet.length < HEADER + question + 4) return reject(packet, Rcode.FORMERR)
  const nameLength = question
  let offset = HEADER + nameLength + 4
  const qtype = u16(packet, HEADER + nameLength)
  const qclass = u16(packet, HEADER + nameLength + 2)
  if (qtype === RRType.OPT) return reject(packet, Rcode.FORMERR, nameLength)
  // Answer and authority sections of a query carry nothing we use; step over them.
  const skipped = u16(packet, 6) + u16(packet, 8)
  for (let i = 0; i < skipped; i++) {
    offset = skipRecord(packet, offset)
    if (offset < 0) return reject(packet, Rcode.FORMERR, nameLength)
  }
  let edns: Edns | undefined
  let tsig: TsigEcho | undefined
  const arcount = u16(packet, 10)
  for (let i = 0; i < arcount; i++) {
    const next = skipRecord(packet, offset)
    if (next < 0) return reject(packet, Rcode.FORMERR, nameLength)
    const nameEnd = skipName(packet, offset)
    const type = u16(packet, nameEnd)
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: one OPT, owned by the root.
      if (edns || nameEnd !== offset + 1) return reject(packet, Rcode.FORMERR, nameLength)
      const parsed = readOpt(packet, offset + 1, next)
      if (!parsed) return reject(packet, Rcode.FORMERR, nameLength)
      edns = parsed
    } else if (type === RRType.TSIG) {
      // RFC 8945 §5.2: the TSIG is the last record, and well-formed.
      tsig = i === arcount - 1 ? readTsig(packet, offset, nameEnd + 10, next) : undefined
      if (!tsig) return reject(packet, Rcode.FORMERR, nameLength, edns)
    }
    offset = next
  }
  if (offset !== packet.length) return reject(packet, Rcode.FORMERR, nameLength, edns)
  // RFC 8945 §5.2: we hold no TSIG key, so every key is unknown.
  if (tsig) return { ...reject(packet, Rcode.NOTAUTH, nameLength, edns), tsig }
  // RFC 6891 §6.1.3: we speak EDNS version 0 only.
  if (edns && edns.version > 0) return reject(packet, Rcode.BADVERS, nameLength, edns)
  return { kind: 'query', packet, id: u16(packet, 0), echoFlags: flags & ECHO_FLAGS, nameLength, qtype, qclass, edns }
}

function reject(packet: Uint8Array, rcode: number, nameLength = 0, edns: Edns | undefined = undefined): Reject {
  const flags = u16(packet, 2)
  return { kind: 'reject', rcode, header: { id: u16(packet, 0), opcode: (flags >>> 11) & 0xf, echoFlags: flags & ECHO_FLAGS }, nameLength, edns }
}

function u16(packet: Uint8Array, at: number): number {
  return ((packet[at] as number) << 8) | (packet[at + 1] as number)
}

/**
 * Wire length of the question name at offset 12, or -1 when it is malformed (a pointer: there is
 * nothing before it to point to; a bad label; too long; past the end). Its own loop, not
 * name.ts's wireNameLength: zone loading calls that one with other arrays, and V8 keeps one set of
 * type feedback per function.
 */
function questionNameLength(packet: Uint8Array): number {
  let at = HEADER
  for (;;) {
    const length = packet[at]
    if (length === undefined || length > MAX_LABEL) return -1
    const end = at + length + 1
    if (end - HEADER > MAX_NAME_WIRE || end > packet.length) return -1
    if (length === 0) return end - HEADER
    at = end
  }
}

/** Offset just past a possibly compressed name, or -1. */
function skipName(packet: Uint8Array, at: number): number {
  for (let hops = 0; hops < 128; hops++) {
    const length = packet[at]
    if (length === undefined) return -1
    if (length === 0) return at + 1
    if ((length & 0xc0) === 0xc0) return at + 2 <= packet.length ? at + 2 : -1
    if (length > MAX_LABEL) return -1
    at += length + 1
  }
  return -1
}

/** Offset just past a resource record, or -1 when it runs past the end. */
function skipRecord(packet: Uint8Array, at: number): number {
  const nameEnd = skipName(packet, at)
  if (nameEnd < 0 || nameEnd + 10 > packet.length) return -1
  const end = nameEnd + 10 + u16(packet, nameEnd + 8)
  return end <= packet.length ? end : -1
}

/** OPT pseudo-RR fields after its root owner (RFC 6891 §6.1.2); undefined when malformed. */
function readOpt(packet: Uint8Array, at: number, end: number): Edns | undefined {
  const udpSize = u16(packet, at + 2)
  const version = packet[at + 5] as number
  const dnssecOk = ((packet[at + 6] as number) & 0x80) !== 0
  let clientSubnet: ClientSubnet | undefined
  let cookieAt = 0
  let cookieLength = 0
  let option = at + 10
  while (option < end) {
    if (option + 4 > end) return undefined
    const code = u16(packet, option)
    const length = u16(packet, option + 2)
    const data = option + 4
    if (data + length > end) return undefined
    if (code === OPTION_ECS && !clientSubnet) {
      const subnet = readClientSubnet(packet, data, length)
      if (!subnet) return undefined
      clientSubnet = subnet
    } else if (code === OPTION_COOKIE) {
      // RFC 7873 §5.2.2: a client cookie of 8 bytes, then none or a server cookie of 8 to 32; one COOKIE option.
      if (cookieLength !== 0 || length < 8 || (length > 8 && length < 16) || length > 40) return undefined
      cookieAt = data
      cookieLength = length
    }
    // Other options (padding, …) are ignored, as RFC 6891 §6.1.2 allows.
    option = data + length
  }
  return { udpSize, version, dnssecOk, clientSubnet, cookieAt, cookieLength }
}

/** RFC 7871 §6 ECS option; undefined (→ FORMERR) when any field breaks the rules. */
function readClientSubnet(packet: Uint8Array, at: number, length: number): ClientSubnet | undefined {
  if (length < 4) return undefined
  const family = u16(packet, at)
  const sourcePrefix = packet[at + 2] as number
  const scopePrefix = packet[at + 3] as number
  const maxPrefix = family === 1 ? 32 : family === 2 ? 128 : -1
  if (maxPrefix < 0 || sourcePrefix > maxPrefix || scopePrefix !== 0) return undefined
  const addressLength = Math.ceil(sourcePrefix / 8)
  if (length !== 4 + addressLength) return undefined
  const addressAt = at + 4
  // Bits past the source prefix must be zero.
  const spare = addressLength * 8 - sourcePrefix
  if (spare > 0 && ((packet[addressAt + addressLength - 1] as number) & ((1 << spare) - 1)) !== 0) return undefined
  return { family: family as 1 | 2, sourcePrefix, scopePrefix, addressAt, addressLength }
}
