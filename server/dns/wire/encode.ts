// Reply encoding: copies the question from the query, then pre-compiled RRset bodies, fixing up
// name pointers by the position their context name landed at. Too big for the client's limit →
// optional additional data is left out, else TC=1 with the question and OPT only (RFC 2181 §9,
// RFC 6891 §7). A query's COOKIE option is answered with its client cookie and the server cookie
// the caller made (RFC 7873 §5.2).

import { Buffer } from 'node:buffer'
import type { AnswerPlan, CompiledRRset, OwnerRef, RRsetRef } from '../plan.ts'
import type { Edns, Query } from '../types.ts'
import type { ReplyHeader } from './decode.ts'
import { replyBuffer } from './reply-buffer.ts'
import { tsigErrorLength, writeTsigError, type TsigEcho } from './tsig.ts'
import { copySections, findSections, sectionCount, sectionsLength, storeSections } from './section-cache.ts'

const HEADER = 12
const FLAG_QR = 0x8000
const FLAG_AA = 0x0400
const FLAG_TC = 0x0200
const MAX_POINTER = 0x3fff
/** Our EDNS UDP payload size: the DNS Flag Day 2020 value, safe from fragmentation. */
export const EDNS_UDP_PAYLOAD = 1232
const OPTION_ECS = 8
const OPTION_COOKIE = 10
/** A client cookie and our RFC 9018 server cookie. */
const COOKIE_REPLY_LENGTH = 8 + 16

/** Largest UDP reply the client accepts: 512 without EDNS, else its size capped at ours (RFC 6891 §6.2.5). */
export function udpLimit(edns: Edns | undefined): number {
  if (!edns) return 512
  return Math.min(Math.max(edns.udpSize, 512), EDNS_UDP_PAYLOAD)
}

/**
 * Replies are written here first, then copied out at their exact size: allocating `maxSize` (up to
 * 64 KiB) per reply made most of the query path's garbage, and so most of its GC pauses. Encoding
 * is synchronous, so one scratch buffer per thread is never shared by two replies.
 */
const scratch = Buffer.allocUnsafe(65535)

/** `serverCookie`: the 16 bytes answering the query's COOKIE option (undefined: no COOKIE in the reply). */
export function encodeResponse(query: Query, plan: AnswerPlan, maxSize: number, scopePrefix = 0, serverCookie?: Uint8Array): Uint8Array {
  const questionEnd = HEADER + query.nameLength + 4
  const slot = findSections(plan.id, query.nameLength)
  if (slot >= 0) {
    const end = questionEnd + sectionsLength(slot)
    const size = end + optLength(query.edns, serverCookie)
    if (size <= maxSize) {
      const reply = replyBuffer(size)
      copyBytes(query.packet, HEADER, questionEnd, reply, HEADER)
      copySections(slot, reply, questionEnd)
      finishReply(reply, query, replyFlags(query, plan), sectionCount(slot, 0), sectionCount(slot, 1), sectionCount(slot, 2), end, scopePrefix, serverCookie)
      return reply
    }
  }
  return encodeSections(query, plan, maxSize, scopePrefix, serverCookie)
}

/** The plan's header with TC=1, the question and OPT, and nothing else: a rate limiter's slip (the client asks again over TCP). */
export function encodeTruncated(query: Query, plan: AnswerPlan, serverCookie?: Uint8Array): Uint8Array {
  const questionEnd = HEADER + query.nameLength + 4
  const reply = replyBuffer(questionEnd + optLength(query.edns, serverCookie))
  copyBytes(query.packet, HEADER, questionEnd, reply, HEADER)
  finishReply(reply, query, replyFlags(query, plan) | FLAG_TC, 0, 0, 0, questionEnd, 0, serverCookie)
  return reply
}

function replyFlags(query: Query, plan: AnswerPlan): number {
  return FLAG_QR | query.echoFlags | (plan.authoritative ? FLAG_AA : 0) | (plan.rcode & 0xf)
}

/** Writes the header around sections that end at `sectionsEnd`, then our OPT; returns the reply's end. */
function finishReply(out: Uint8Array, query: Query, flags: number, answers: number, authority: number, additional: number, sectionsEnd: number, scopePrefix: number, serverCookie: Uint8Array | undefined): number {
  writeHeader(out, query.id, flags, 1, answers, authority, additional + (query.edns ? 1 : 0))
  return query.edns ? writeOpt(out, sectionsEnd, query.edns, query.packet, 0, scopePrefix, serverCookie) : sectionsEnd
}

/** Writes the plan's sections RRset by RRset; sections that fit whole go to the section cache. */
function encodeSections(query: Query, plan: AnswerPlan, maxSize: number, scopePrefix: number, serverCookie: Uint8Array | undefined): Uint8Array {
  const out = scratch
  const questionEnd = HEADER + query.nameLength + 4
  copyBytes(query.packet, HEADER, questionEnd, out, HEADER)
  const limit = maxSize - optLength(query.edns, serverCookie)
  const context: WriteContext = { out, qnameLength: query.nameLength, limit, pos: questionEnd }
  const flags = replyFlags(query, plan)
  const answers = writeSection(context, plan.answer)
  const authority = answers < 0 ? -1 : writeSection(context, plan.authority)
  let additional = 0
  if (authority >= 0) {
    additional = writeSection(context, plan.additional)
    if (additional >= 0) storeSections(plan.id, query.nameLength, out, questionEnd, context.pos, answers, authority, additional)
    else if (!plan.additionalRequired) additional = -additional - 1
  }
  const truncated = answers < 0 || authority < 0 || additional < 0
  const end = truncated
    ? finishReply(out, query, flags | FLAG_TC, 0, 0, 0, questionEnd, scopePrefix, serverCookie)
    : finishReply(out, query, flags, answers, authority, additional, context.pos, scopePrefix, serverCookie)
  const reply = replyBuffer(end)
  copyBytes(out, 0, end, reply, 0)
  return reply
}

/**
 * A byte loop for short runs: most DNS replies are tens to hundreds of bytes, where TypedArray#set
 * and subarray cost more in call overhead and view objects than the copy itself.
 */
function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start > 512) to.set(from.subarray(start, end), at)
  else for (let i = start; i < end; i++) to[at + i - start] = from[i] as number
}

function put16(out: Uint8Array, value: number, at: number): void {
  out[at] = value >>> 8
  out[at + 1] = value & 0xff
}

/** A reply that only carries an rcode, with the question and OPT echoed when the query had them. */
export function encodeReject(packet: Uint8Array, header: ReplyHeader, rcode: number, nameLength: number, edns: Edns | undefined, tsig?: TsigEcho, serverCookie?: Uint8Array): Uint8Array {
  const questionLength = nameLength > 0 ? nameLength + 4 : 0
  const out = replyBuffer(HEADER + questionLength + optLength(edns, serverCookie) + (tsig ? tsigErrorLength(tsig) : 0))
  copyBytes(packet, HEADER, HEADER + questionLength, out, HEADER)
  writeHeader(out, header.id, FLAG_QR | (header.opcode << 11) | header.echoFlags | (rcode & 0xf), questionLength > 0 ? 1 : 0, 0, 0, (edns ? 1 : 0) + (tsig ? 1 : 0))
  let pos = HEADER + questionLength
  // RFC 6891 §6.1.3: the upper 8 bits of a 12-bit rcode travel in the OPT record.
  if (edns) pos = writeOpt(out, pos, edns, packet, rcode >>> 4, 0, serverCookie)
  // RFC 8945 §5.3.2: an unsigned TSIG with the error, last in the additional section.
  if (tsig) writeTsigError(out, pos, tsig)
  return out
}

function writeHeader(out: Uint8Array, id: number, flags: number, qd: number, an: number, ns: number, ar: number): void {
  put16(out, id, 0)
  put16(out, flags, 2)
  put16(out, qd, 4)
  put16(out, an, 6)
  put16(out, ns, 8)
  put16(out, ar, 10)
}

type WriteContext = { readonly out: Uint8Array; readonly qnameLength: number; readonly limit: number; pos: number }

/**
 * Writes whole RRsets while they fit. Returns the record count, or -(count + 1) when an RRset
 * did not fit (everything before it stays written).
 */
function writeSection(context: WriteContext, refs: readonly RRsetRef[]): number {
  let count = 0
  for (const ref of refs) {
    const written = writeRRset(context, ref.rrset, ref.owner)
    if (written < 0) return -(count + 1)
    count += written
  }
  return count
}

/** Writes one RRset at context.pos; returns its record count, or -1 (nothing written) when it does not fit. */
function writeRRset(context: WriteContext, rrset: CompiledRRset, owner: OwnerRef): number {
  const { out, qnameLength, limit } = context
  let pos = context.pos
  let ownerPos: number
  let ownerLength: number
  let ownerWire: Uint8Array | undefined
  switch (owner.kind) {
    case 'qname':
      ownerPos = HEADER
      ownerLength = qnameLength
      break
    case 'suffix':
      ownerPos = HEADER + qnameLength - owner.wireLength
      ownerLength = owner.wireLength
      break
    case 'name':
      ownerPos = pos
      ownerLength = owner.wire.length
      ownerWire = owner.wire
      break
  }
  const base = ownerPos + ownerLength - rrset.contextLength
  const compressed = base + 255 <= MAX_POINTER
  const pointerToOwner = ownerPos <= MAX_POINTER
  for (let i = 0; i < rrset.records.length; i++) {
    const record = rrset.records[i]!
    const body = compressed ? record.body : record.plain
    const fullOwner = ownerWire !== undefined && (i === 0 || !pointerToOwner)
    const need = (fullOwner ? ownerLength : 2) + body.length
    if (pos + need > limit) return -1
    if (fullOwner) {
      copyBytes(ownerWire as Uint8Array, 0, ownerLength, out, pos)
      pos += ownerLength
    } else {
      put16(out, 0xc000 | ownerPos, pos)
      pos += 2
    }
    copyBytes(body, 0, body.length, out, pos)
    if (compressed) {
      const patches = record.patches
      for (let p = 0; p < patches.length; p += 2) put16(out, 0xc000 | (base + patches[p + 1]!), pos + patches[p]!)
    }
    pos += body.length
  }
  context.pos = pos
  return rrset.records.length
}

function optLength(edns: Edns | undefined, serverCookie: Uint8Array | undefined): number {
  if (!edns) return 0
  return 11 + (edns.clientSubnet ? 8 + edns.clientSubnet.addressLength : 0) + (serverCookie && edns.cookieLength > 0 ? 4 + COOKIE_REPLY_LENGTH : 0)
}

/**
 * Writes our OPT record: payload size, extended rcode, version 0, DO echoed (RFC 3225 §3), ECS
 * echoed with `scopePrefix` (its address bytes copied from the query `packet`), then COOKIE: the
 * query's client cookie and `serverCookie`.
 */
function writeOpt(out: Uint8Array, pos: number, edns: Edns, packet: Uint8Array, extendedRcode: number, scopePrefix: number, serverCookie: Uint8Array | undefined): number {
  const subnet = edns.clientSubnet
  const cookie = serverCookie && edns.cookieLength > 0
  out[pos] = 0
  put16(out, 41, pos + 1)
  put16(out, EDNS_UDP_PAYLOAD, pos + 3)
  out[pos + 5] = extendedRcode
  out[pos + 6] = 0
  put16(out, edns.dnssecOk ? 0x8000 : 0, pos + 7)
  put16(out, (subnet ? 8 + subnet.addressLength : 0) + (cookie ? 4 + COOKIE_REPLY_LENGTH : 0), pos + 9)
  pos += 11
  if (subnet) {
    // RFC 7871 §7.2.1: echo family, source prefix and address; the scope says how much of it we used.
    put16(out, OPTION_ECS, pos)
    put16(out, 4 + subnet.addressLength, pos + 2)
    put16(out, subnet.family, pos + 4)
    out[pos + 6] = subnet.sourcePrefix
    out[pos + 7] = scopePrefix
    copyBytes(packet, subnet.addressAt, subnet.addressAt + subnet.addressLength, out, pos + 8)
    pos += 8 + subnet.addressLength
  }
  if (cookie) {
    put16(out, OPTION_COOKIE, pos)
    put16(out, COOKIE_REPLY_LENGTH, pos + 2)
    copyBytes(packet, edns.cookieAt, edns.cookieAt + 8, out, pos + 4)
    copyBytes(serverCookie, 0, 16, out, pos + 12)
    pos += 4 + COOKIE_REPLY_LENGTH
  }
  return pos
}
