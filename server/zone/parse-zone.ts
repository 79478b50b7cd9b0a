// Master-file parser (RFC 1035 §5, RFC 2308 §4 for $TTL): entries from the lexer → records with
// absolute owners, TTLs and wire rdata. It reports every problem it finds, each with file and
// line, rather than stopping at the first.

import { dirname, resolve } from 'node:path'
import { parseName } from '../dns/name.ts'
import { RRType, typeFromName } from '../dns/types.ts'
import type { Problem, ProblemCode } from '../common/problem.ts'
import { lexMasterFile, type Token } from './lexer.ts'
import { parseRData, type RData } from './rdata.ts'
import { looksLikeTtl, parseTtl } from './ttl.ts'

export type ZoneRecord = {
  readonly owner: Uint8Array
  readonly type: number
  readonly ttl: number
  readonly rdata: RData
  readonly file: string
  readonly line: number
}

export type ParsedZone = { readonly origin: Uint8Array; readonly records: readonly ZoneRecord[] }

/** A file with problems still gives the records that did parse (`partial`), so the zone's own checks can report theirs too. */
export type ParseResult = { readonly ok: true; readonly zone: ParsedZone } | { readonly ok: false; readonly problems: readonly Problem[]; readonly partial?: ParsedZone }

/** How the parser reads files; injected so tests can parse text without touching disk. */
export type ReadText = (path: string) => string

const MAX_INCLUDE_DEPTH = 8

type Cursor = { origin: Uint8Array | undefined; owner: Uint8Array | undefined; defaultTtl: number | undefined; lastTtl: number | undefined }

/**
 * Parses the zone in `file`. `fallbackOrigin` applies until a `$ORIGIN` appears; the zone's origin
 * is the one in force at its first record (the file's `$ORIGIN`, else the name from the file name).
 */
export function parseZoneFile(file: string, fallbackOrigin: Uint8Array, readText: ReadText): ParseResult {
  const problems: Problem[] = []
  const records: ZoneRecord[] = []
  let zoneOrigin: Uint8Array | undefined

  const problem = (code: ProblemCode, path: string, line: number, message: string): void => {
    problems.push({ code, file: path, line, message })
  }

  const parseFile = (path: string, text: string, cursor: Cursor, depth: number): void => {
    for (const entry of lexMasterFile(text)) {
      if (!entry.tokens) return problem('syntax', path, entry.line, entry.message)
      const first = entry.tokens[0] as Token
      if (!entry.ownerOmitted && !first.quoted && first.text.startsWith('$')) {
        directive(path, entry.line, first.text.toUpperCase(), entry.tokens.slice(1), cursor, depth)
        continue
      }
      record(path, entry.line, entry.ownerOmitted ? entry.tokens : entry.tokens.slice(1), entry.ownerOmitted ? undefined : first, cursor)
    }
  }

  const directive = (path: string, line: number, name: string, args: readonly Token[], cursor: Cursor, depth: number): void => {
    switch (name) {
      case '$ORIGIN': {
        if (args.length !== 1) return problem('directive', path, line, '$ORIGIN takes one domain name')
        const origin = parseName((args[0] as Token).text, cursor.origin)
        if (!origin.ok) return problem('directive', path, line, origin.message)
        cursor.origin = origin.wire
        return
      }
      case '$TTL': {
        const ttl = args.length === 1 ? parseTtl((args[0] as Token).text) : undefined
        if (ttl === undefined) return problem('ttl', path, line, `$TTL takes one TTL from 0 to 2147483647`)
        cursor.defaultTtl = ttl
        return
      }
      case '$INCLUDE': {
        if (args.length < 1 || args.length > 2) return problem('include', path, line, '$INCLUDE takes a file name and an optional origin')
        if (depth >= MAX_INCLUDE_DEPTH) return problem('include', path, line, `$INCLUDE nested deeper than ${MAX_INCLUDE_DEPTH} (a loop?)`)
        const target = resolve(dirname(path), (args[0] as Token).text)
        let text: string
        try {
          text = readText(target)
        } catch (error) {
          return problem('include', path, line, `cannot read $INCLUDE file ${target}: ${(error as Error).message}`)
        }
        // RFC 1035 §5.1: the origin (and so the current owner) applies inside the included file
        // only. $TTL carries on after it, as BIND and Knot read it.
        const inner: Cursor = { ...cursor }
        if (args[1]) {
          const origin = parseName(args[1].text, cursor.origin)
          if (!origin.ok) return problem('include', path, line, origin.message)
          inner.origin = origin.wire
        }
        parseFile(target, text, inner, depth + 1)
        cursor.defaultTtl = inner.defaultTtl
        cursor.lastTtl = inner.lastTtl
        return
      }
      default:
        return problem('directive', path, line, `unknown directive ${name}`)
    }
  }

  const record = (path: string, line: number, fields: readonly Token[], ownerToken: Token | undefined, cursor: Cursor): void => {
    if (ownerToken) {
      const owner = parseName(ownerToken.text, cursor.origin)
      if (!owner.ok) return problem('owner', path, line, owner.message)
      cursor.owner = owner.wire
    }
    if (!cursor.owner) return problem('owner', path, line, 'record has no owner and no previous owner to inherit')
    zoneOrigin ??= cursor.origin
    // [<TTL>] [<class>] <type> or [<class>] [<TTL>] <type> (RFC 1035 §5.1)
    let ttl: number | undefined
    let index = 0
    for (; index < 2 && index < fields.length; index++) {
      const text = (fields[index] as Token).text
      if (/^(IN|CH|HS|CLASS\d+)$/i.test(text)) {
        if (text.toUpperCase() !== 'IN') return problem('class', path, line, `class ${text} is not served; only IN`)
      } else if (looksLikeTtl(text)) {
        ttl = parseTtl(text)
        if (ttl === undefined) return problem('ttl', path, line, `TTL '${text}' is not from 0 to 2147483647 seconds`)
        cursor.lastTtl = ttl
      } else break
    }
    const typeToken = fields[index]
    if (!typeToken) return problem('type', path, line, 'record has no type')
    const type = typeFromName(typeToken.text)
    if (type === undefined) return problem('type', path, line, `unknown type '${typeToken.text}'`)
    if (type === RRType.OPT || type === RRType.ANY || type === RRType.AXFR || type === RRType.IXFR) {
      return problem('type', path, line, `${typeToken.text} is not a record type a zone can hold`)
    }
    const rdata = parseRData(type, fields.slice(index + 1), cursor.origin ?? fallbackOrigin)
    if (!rdata.ok) return problem('rdata', path, line, `${typeToken.text.toUpperCase()}: ${rdata.message}`)
    // RFC 2308 §4: $TTL; before any, the last explicit TTL (RFC 1035); an SOA may fall back on its minimum.
    ttl ??= cursor.defaultTtl ?? cursor.lastTtl ?? (type === RRType.SOA ? soaMinimum(rdata.rdata) : undefined)
    if (ttl === undefined) return problem('ttl', path, line, 'no TTL given and no $TTL or earlier TTL to inherit')
    records.push({ owner: cursor.owner, type, ttl, rdata: rdata.rdata, file: path, line })
  }

  let text: string
  try {
    text = readText(file)
  } catch (error) {
    return { ok: false, problems: [{ code: 'io', file, line: 0, message: `cannot read zone file: ${(error as Error).message}` }] }
  }
  parseFile(file, text, { origin: fallbackOrigin, owner: undefined, defaultTtl: undefined, lastTtl: undefined }, 0)
  const zone = { origin: zoneOrigin ?? fallbackOrigin, records }
  return problems.length > 0 ? { ok: false, problems, partial: zone } : { ok: true, zone }
}

function soaMinimum(rdata: RData): number | undefined {
  if (rdata.wire.length < 22) return undefined
  return Buffer.from(rdata.wire.buffer, rdata.wire.byteOffset, rdata.wire.byteLength).readUInt32BE(rdata.wire.length - 4)
}
