// Record data: presentation tokens → wire bytes, per type (RFC 1035 §3.3, RFC 3596, RFC 2782,
// RFC 8659, and RFC 3597 `\# len hex` for any type). Names inside the data are recorded with their
// offset so that compile.ts can compress the ones RFC 3597 §4 allows to be compressed.

import ipaddr from 'ipaddr.js'
import { decodeEscape, parseName, wireNameLength } from '../dns/name.ts'
import { RRType, typeName } from '../dns/types.ts'
import type { Token } from './lexer.ts'
import { parseTtl } from './ttl.ts'

export type EmbeddedName = { readonly offset: number; readonly length: number; readonly compressible: boolean }

export type RData = { readonly wire: Uint8Array; readonly names: readonly EmbeddedName[] }

export type RDataResult = { readonly ok: true; readonly rdata: RData } | { readonly ok: false; readonly message: string }

/** Builds wire rdata piece by piece, remembering where names went. */
class RDataWriter {
  readonly #bytes: number[] = []
  readonly #names: EmbeddedName[] = []
  u8(value: number): void {
    this.#bytes.push(value & 0xff)
  }
  u16(value: number): void {
    this.#bytes.push((value >>> 8) & 0xff, value & 0xff)
  }
  u32(value: number): void {
    this.#bytes.push((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)
  }
  bytes(values: Iterable<number>): void {
    for (const v of values) this.#bytes.push(v)
  }
  name(wire: Uint8Array, compressible: boolean): void {
    this.#names.push({ offset: this.#bytes.length, length: wire.length, compressible })
    this.bytes(wire)
  }
  finish(): RData {
    return { wire: Buffer.from(this.#bytes), names: this.#names }
  }
}

class RDataError extends Error {}

function fail(message: string): never {
  throw new RDataError(message)
}

function expectCount(tokens: readonly Token[], count: number, shape: string): void {
  if (tokens.length !== count) fail(`expected ${shape}, got ${tokens.length} field${tokens.length === 1 ? '' : 's'}`)
}

function name(token: Token, origin: Uint8Array): Uint8Array {
  const parsed = parseName(token.text, origin)
  if (!parsed.ok) fail(parsed.message)
  return parsed.wire
}

function uint(token: Token, max: number, what: string): number {
  if (!/^\d+$/.test(token.text) || Number(token.text) > max) fail(`${what} '${token.text}' is not an integer from 0 to ${max}`)
  return Number(token.text)
}

/** The bytes of a quoted or bare string with its escapes decoded. */
function decodeCharacters(token: Token): number[] {
  const raw = Buffer.from(token.text, 'utf8')
  const out: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number
    if (c === 0x5c) {
      const decoded = decodeEscape(raw, i)
      if (!decoded.ok) fail(decoded.message)
      out.push(decoded.byte)
      i = decoded.next - 1
    } else {
      out.push(c)
    }
  }
  return out
}

/** A <character-string> (RFC 1035 §3.3): at most 255 bytes. */
function characterString(token: Token): number[] {
  const out = decodeCharacters(token)
  if (out.length > 255) fail(`character string longer than 255 bytes`)
  return out
}

function ipv4(token: Token): number[] {
  if (!ipaddr.IPv4.isValidFourPartDecimal(token.text)) fail(`'${token.text}' is not an IPv4 address`)
  return ipaddr.IPv4.parse(token.text).toByteArray()
}

function ipv6(token: Token): number[] {
  if (!ipaddr.IPv6.isValid(token.text) || token.text.includes('%')) fail(`'${token.text}' is not an IPv6 address`)
  return ipaddr.IPv6.parse(token.text).toByteArray()
}

/** RFC 3597 §5: `\# <length> <hex>…`; data of a known type must have that type's shape. */
function genericRData(type: number, tokens: readonly Token[]): RData {
  const length = tokens[1]
  if (!length) fail("'\\#' needs a length")
  const size = uint(length, 0xffff, 'rdata length')
  const hex = tokens.slice(2).map((t) => t.text).join('')
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) fail(`'${hex}' is not hexadecimal bytes`)
  if (hex.length / 2 !== size) fail(`'\\#' says ${size} bytes but ${hex.length / 2} are given`)
  const wire = Uint8Array.from(Buffer.from(hex, 'hex'))
  return { wire, names: knownShapeNames(type, wire) }
}

/** Checks generic data of a known type against its wire layout and finds the names in it. */
function knownShapeNames(type: number, wire: Uint8Array): EmbeddedName[] {
  const nameAt = (offset: number, compressible: boolean): EmbeddedName => {
    const length = wireNameLength(wire, offset)
    if (length < 0) fail(`data is not a valid ${typeName(type)} record`)
    return { offset, length, compressible }
  }
  const exact = (names: EmbeddedName[], fixedTail: number): EmbeddedName[] => {
    const last = names[names.length - 1] as EmbeddedName
    if (last.offset + last.length + fixedTail !== wire.length) fail(`data is not a valid ${typeName(type)} record`)
    return names
  }
  switch (type) {
    case RRType.A:
    case RRType.AAAA:
      if (wire.length !== (type === RRType.A ? 4 : 16)) fail(`data is not a valid ${typeName(type)} record`)
      return []
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      return exact([nameAt(0, true)], 0)
    case RRType.MX:
      return exact([nameAt(2, true)], 0)
    case RRType.SRV:
      return exact([nameAt(6, false)], 0)
    case RRType.SOA: {
      const mname = nameAt(0, true)
      return exact([mname, nameAt(mname.length, true)], 20)
    }
    default:
      return []
  }
}

/** Parses the rdata fields of one record; `origin` completes relative names. */
export function parseRData(type: number, tokens: readonly Token[], origin: Uint8Array): RDataResult {
  try {
    if (tokens[0]?.text === '\\#' && !tokens[0].quoted) return { ok: true, rdata: genericRData(type, tokens) }
    return { ok: true, rdata: parseKnown(type, tokens, origin) }
  } catch (error) {
    if (error instanceof RDataError) return { ok: false, message: error.message }
    throw error
  }
}

function parseKnown(type: number, t: readonly Token[], origin: Uint8Array): RData {
  const w = new RDataWriter()
  switch (type) {
    case RRType.A:
      expectCount(t, 1, 'an IPv4 address')
      w.bytes(ipv4(t[0] as Token))
      break
    case RRType.AAAA:
      expectCount(t, 1, 'an IPv6 address')
      w.bytes(ipv6(t[0] as Token))
      break
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      expectCount(t, 1, 'a domain name')
      w.name(name(t[0] as Token, origin), true)
      break
    case RRType.MX:
      expectCount(t, 2, 'preference and exchange')
      w.u16(uint(t[0] as Token, 0xffff, 'preference'))
      w.name(name(t[1] as Token, origin), true)
      break
    case RRType.SOA: {
      expectCount(t, 7, 'mname rname serial refresh retry expire minimum')
      w.name(name(t[0] as Token, origin), true)
      w.name(name(t[1] as Token, origin), true)
      w.u32(uint(t[2] as Token, 0xffffffff, 'serial'))
      for (const field of t.slice(3)) {
        const seconds = parseTtl(field.text)
        if (seconds === undefined) fail(`SOA timer '${field.text}' is not a TTL`)
        w.u32(seconds)
      }
      break
    }
    case RRType.TXT:
      if (t.length === 0) fail('expected at least one character string')
      for (const token of t) {
        const bytes = characterString(token)
        w.u8(bytes.length)
        w.bytes(bytes)
      }
      break
    case RRType.SRV:
      expectCount(t, 4, 'priority weight port target')
      w.u16(uint(t[0] as Token, 0xffff, 'priority'))
      w.u16(uint(t[1] as Token, 0xffff, 'weight'))
      w.u16(uint(t[2] as Token, 0xffff, 'port'))
      // RFC 2782: the target must not be compressed.
      w.name(name(t[3] as Token, origin), false)
      break
    case RRType.CAA: {
      expectCount(t, 3, 'flags tag value')
      w.u8(uint(t[0] as Token, 255, 'flags'))
      const tag = (t[1] as Token).text
      if (!/^[A-Za-z0-9]{1,255}$/.test(tag)) fail(`CAA tag '${tag}' must be letters and digits`)
      w.u8(tag.length)
      w.bytes(Buffer.from(tag, 'ascii'))
      // RFC 8659 §4.1.1: the value is not length-prefixed and may exceed 255 bytes.
      w.bytes(decodeCharacters(t[2] as Token))
      break
    }
    case RRType.DS: {
      // RFC 4034 §5.3: key tag, algorithm, digest type, digest in hex (white space allowed).
      if (t.length < 4) fail('expected key tag, algorithm, digest type and digest')
      w.u16(uint(t[0] as Token, 0xffff, 'key tag'))
      w.u8(uint(t[1] as Token, 255, 'algorithm'))
      w.u8(uint(t[2] as Token, 255, 'digest type'))
      const hex = t.slice(3).map((token) => token.text).join('')
      if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) fail(`DS digest '${hex}' is not hexadecimal`)
      w.bytes(Buffer.from(hex, 'hex'))
      break
    }
    default:
      fail("this type has no presentation format here: write its data as RFC 3597 '\\# <length> <hex>'")
  }
  return w.finish()
}
