// The master-file parser and zone checks, table-driven: zone text in, records or problems out.

import { describe, expect, it } from 'vitest'
import { nameToText, parseName } from '../../../server/dns/name.ts'
import { typeName } from '../../../server/dns/types.ts'
import { parseZoneFile } from '../../../server/zone/parse-zone.ts'
import { buildZone } from '../../../server/zone/build-zone.ts'

const origin = (text: string): Uint8Array => {
  const parsed = parseName(text, undefined)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.wire
}

/** Parses files given as a path → text map; returns "owner ttl type hexdata" lines or problems. */
function parse(files: Record<string, string>, main = '/z/example.test.zone') {
  return parseZoneFile(main, origin('example.test.'), (path) => {
    const text = files[path]
    if (text === undefined) throw new Error('ENOENT: no such file')
    return text
  })
}

function records(files: Record<string, string>): string[] {
  const result = parse(files)
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'))
  return result.zone.records.map((r) => `${nameToText(r.owner)} ${r.ttl} ${typeName(r.type)} ${Buffer.from(r.rdata.wire).toString('hex')}`)
}

function problems(files: Record<string, string>): string[] {
  const result = parse(files)
  if (result.ok) {
    const built = buildZone(result.zone, '/z/example.test.zone')
    return built.ok ? [] : built.problems.map((p) => `${p.file}:${p.line} ${p.code}`)
  }
  return result.problems.map((p) => `${p.file}:${p.line} ${p.code}`)
}

const SOA = '@ 3600 SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n'

describe('master-file syntax', () => {
  it.each([
    ['relative, absolute and @ owners', '$TTL 60\nwww A 192.0.2.1\nabs.example.test. A 192.0.2.2\n@ A 192.0.2.3', ['www.example.test. 60 A c0000201', 'abs.example.test. 60 A c0000202', 'example.test. 60 A c0000203']],
    ['omitted owner inherits the previous one', '$TTL 60\nwww A 192.0.2.1\n  AAAA 2001:db8::1', ['www.example.test. 60 A c0000201', 'www.example.test. 60 AAAA 20010db8000000000000000000000001']],
    ['TTL and class in either order, with units', 'a 1h30m IN A 192.0.2.1\nb IN 2d A 192.0.2.2\nc 1W A 192.0.2.3', ['a.example.test. 5400 A c0000201', 'b.example.test. 172800 A c0000202', 'c.example.test. 604800 A c0000203']],
    ['without $TTL the last explicit TTL applies', 'a 120 A 192.0.2.1\nb A 192.0.2.2', ['a.example.test. 120 A c0000201', 'b.example.test. 120 A c0000202']],
    ['$ORIGIN changes relative names', '$TTL 1\n$ORIGIN sub.example.test.\nx A 192.0.2.1\n$ORIGIN other\ny A 192.0.2.2', ['x.sub.example.test. 1 A c0000201', 'y.other.sub.example.test. 1 A c0000202']],
    ['parentheses span lines and comments end them', '$TTL 1\n@ SOA ns1 host ( 1 ; serial\n 2 3 ; timers\n 4 5 )', ['example.test. 1 SOA 036e7331076578616d706c650474657374' + '00' + '04686f7374076578616d706c650474657374' + '00' + '00000001000000020000000300000004' + '00000005']],
    ['escaped dots and \\DDD in names', '$TTL 1\na\\.b CNAME x\\065y', ['a\\.b.example.test. 1 CNAME 03784179' + '076578616d706c65047465737400']],
    ['quoted TXT with spaces, escapes and several strings', '$TTL 1\nt TXT "a b" "q\\"x" \\065 "\\255"', ['t.example.test. 1 TXT ' + '03612062' + '03712278' + '0141' + '01ff']],
    ['MX, SRV, PTR, CAA', '$TTL 1\nm MX 10 mail\ns SRV 1 2 3 t.example.net.\np PTR host\nc CAA 0 issue "ca.example"', [
      'm.example.test. 1 MX 000a046d61696c076578616d706c65047465737400',
      's.example.test. 1 SRV 0001000200030174076578616d706c65036e657400',
      'p.example.test. 1 PTR 04686f7374076578616d706c65047465737400',
      'c.example.test. 1 CAA 0005697373756563612e6578616d706c65',
    ]],
    ['unknown types in RFC 3597 form', '$TTL 1\nu TYPE65534 \\# 3 abcdef\nv TYPE1 \\# 4 c0000201\nw TYPE200 \\# 0', ['u.example.test. 1 TYPE65534 abcdef', 'v.example.test. 1 A c0000201', 'w.example.test. 1 TYPE200 ']],
  ])('%s', (_name, text, expected) => {
    expect(records({ '/z/example.test.zone': text })).toEqual(expected)
  })

  it('reads $INCLUDE relative to the including file, with its own origin', () => {
    const got = records({
      '/z/example.test.zone': '$TTL 1\na A 192.0.2.1\n$INCLUDE inc/more.zone sub.example.test.\nb A 192.0.2.2',
      '/z/inc/more.zone': 'x A 192.0.2.9',
    })
    expect(got).toEqual(['a.example.test. 1 A c0000201', 'x.sub.example.test. 1 A c0000209', 'b.example.test. 1 A c0000202'])
  })
})

describe('problems name file and line', () => {
  it.each([
    ['bad IPv4 address', 'a 1 A 192.0.2.300', ['/z/example.test.zone:1 rdata']],
    ['bad IPv6 address', '\n\na 1 AAAA 2001:db8::g', ['/z/example.test.zone:3 rdata']],
    ['label too long', `${'x'.repeat(64)} 1 A 192.0.2.1`, ['/z/example.test.zone:1 owner']],
    ['name too long', `${Array(50).fill('abcd').join('.')} 1 A 192.0.2.1`, ['/z/example.test.zone:1 owner']],
    ['TTL out of range', 'a 2147483648 A 192.0.2.1', ['/z/example.test.zone:1 ttl']],
    ['unknown type', 'a 1 FOO 1', ['/z/example.test.zone:1 type']],
    ['non-IN class', 'a 1 CH A 192.0.2.1', ['/z/example.test.zone:1 class']],
    ['unclosed parenthesis', 'a 1 TXT ( "x"\n', ['/z/example.test.zone:1 syntax']],
    ['unterminated quote', 'a 1 TXT "x', ['/z/example.test.zone:1 syntax']],
    ['no TTL anywhere', 'a A 192.0.2.1', ['/z/example.test.zone:1 ttl']],
    ['RFC 3597 length mismatch', 'a 1 TYPE9 \\# 2 ab', ['/z/example.test.zone:1 rdata']],
    ['generic data that is no A record', 'a 1 A \\# 3 010203', ['/z/example.test.zone:1 rdata']],
    ['missing $INCLUDE file', '$INCLUDE nope.zone', ['/z/example.test.zone:1 include']],
    ['unknown directive', '$GENERATE 1-2 a A 192.0.2.$', ['/z/example.test.zone:1 directive']],
  ])('%s', (_name, text, expected) => {
    expect(problems({ '/z/example.test.zone': text })).toEqual(expected)
  })

  it.each([
    ['missing SOA', '@ 1 NS ns1\nns1 1 A 192.0.2.1', ['/z/example.test.zone:0 no-soa']],
    ['missing NS', '@ 1 SOA ns1 host 1 2 3 4 5', ['/z/example.test.zone:0 no-ns']],
    ['CNAME beside other data', SOA + 'a 1 CNAME b\na 1 A 192.0.2.1', ['/z/example.test.zone:4 cname-and-other-data']],
    ['two CNAMEs', SOA + 'a 1 CNAME b\na 1 CNAME c', ['/z/example.test.zone:4 cname-count']],
    ['out-of-zone data', SOA + 'www.example.org. 1 A 192.0.2.1', ['/z/example.test.zone:4 out-of-zone']],
    ['delegation without glue', SOA + 'sub 1 NS ns.sub', ['/z/example.test.zone:4 missing-glue']],
    ['SOA below the apex', SOA + 'x 1 SOA ns1 host 1 2 3 4 5', ['/z/example.test.zone:4 soa-not-apex']],
  ])('%s', (_name, text, expected) => {
    expect(problems({ '/z/example.test.zone': text })).toEqual(expected)
  })

  it('reports every problem, not just the first', () => {
    expect(problems({ '/z/example.test.zone': 'a 1 A 1.2.3.4.5\nb 1 A 192.0.2.1\nc 1 BOGUS x' })).toEqual(['/z/example.test.zone:1 rdata', '/z/example.test.zone:3 type'])
  })

  it('accepts glue below a delegation and the names around it', () => {
    expect(problems({ '/z/example.test.zone': SOA + 'sub 1 NS ns.sub\nns.sub 1 A 192.0.2.9' })).toEqual([])
  })
})
