// The signer's pure parts: key files written and read back, key timing, the NSEC type bitmap
// (RFC 4034 §4.3's example), and RRSIGs that node:crypto verifies over the canonical RRset.

import { createPublicKey, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseName } from '../../../server/dns/name.ts'
import { generateKey } from '../../../server/dnssec/algorithm.ts'
import { formatKeyFiles, parseKeyFiles, type ZoneKey } from '../../../server/dnssec/key-file.ts'
import { isActive, isPublished, keyState, nextKeyEvent } from '../../../server/dnssec/key-timing.ts'
import { compactNsec, typeBitmap } from '../../../server/dnssec/nsec.ts'
import { canonicalRRset, labelCount, signCanonical } from '../../../server/dnssec/rrsig.ts'
import { compileRRset } from '../../../server/zone/compile.ts'
import { buildZone } from '../../../server/zone/build-zone.ts'
import { parseZoneFile } from '../../../server/zone/parse-zone.ts'
import { signZone } from '../../../server/dnssec/sign-zone.ts'
import { dsRdata } from '../../../server/dnssec/records.ts'

const zone = (text: string): Uint8Array => (parseName(text, undefined) as { wire: Uint8Array }).wire
const NOW = 1_800_000_000

function makeKey(algorithm: 13 | 15, timing = { publish: NOW - 10, activate: NOW - 10, inactive: undefined as number | undefined, delete: undefined as number | undefined }): ZoneKey {
  const { privateBytes, publicBytes } = generateKey(algorithm)
  const files = formatKeyFiles(zone('example.com.'), 257, algorithm, publicBytes, privateBytes, NOW - 10, timing)
  const parsed = parseKeyFiles(`${files.baseName}.key`, files.keyText, `${files.baseName}.private`, files.privateText)
  if (!parsed.ok) throw new Error(parsed.problems[0]?.message)
  expect(parsed.key.tag).toBe(files.tag)
  return parsed.key
}

describe('keys', () => {
  it('a key written is read back with its tag and times; a private key of another pair is refused', () => {
    const key = makeKey(13)
    expect(key.algorithm).toBe(13)
    expect(key.timing.activate).toBe(NOW - 10)
    const other = generateKey(13)
    const mine = generateKey(13)
    const files = formatKeyFiles(zone('example.com.'), 257, 13, mine.publicBytes, other.privateBytes, NOW, { publish: NOW, activate: NOW, inactive: undefined, delete: undefined })
    const parsed = parseKeyFiles('k.key', files.keyText, 'k.private', files.privateText)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.problems[0]).toMatchObject({ file: 'k.private', line: 3, message: 'the PrivateKey does not belong to the DNSKEY in k.key' })
  })

  it('timing: published from Publish to Delete, active from Activate to Inactive; the next event', () => {
    const key = makeKey(15, { publish: NOW, activate: NOW + 100, inactive: NOW + 200, delete: NOW + 300 })
    expect([isPublished(key, NOW - 1), isPublished(key, NOW), isActive(key, NOW + 99), isActive(key, NOW + 100), isActive(key, NOW + 200), isPublished(key, NOW + 300)]).toEqual([false, true, false, true, false, false])
    expect(nextKeyEvent([key], NOW + 100)).toBe(NOW + 200)
    expect(keyState(key, NOW + 250)).toBe('retired')
  })
})

describe('records', () => {
  it('the NSEC bitmap of RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234', () => {
    expect(Buffer.from(typeBitmap([1, 15, 46, 47, 1234])).toString('hex')).toBe('0006400100000003' + '041b' + '00'.repeat(26) + '20')
  })

  it('compact NSEC: next name \\000.<owner>, NXNAME for a name that does not exist', () => {
    const nsec = compactNsec(zone('Nope.Example.COM.'), undefined, 300)
    const rdata = Buffer.from(nsec.records[0]!.plain.subarray(10))
    expect(rdata.subarray(0, 20).toString('latin1')).toBe('\x01\x00\x04nope\x07example\x03com\x00')
    expect(rdata.subarray(20).toString('hex')).toBe(Buffer.from(typeBitmap([46, 47, 128])).toString('hex'))
  })

  it.each([13, 15] as const)('algorithm %i: the RRSIG verifies over its fields and the canonical RRset (owner lowercased, records sorted)', (algorithm) => {
    const key = makeKey(algorithm)
    const rrset = compileRRset(1, 30, [{ wire: Uint8Array.of(192, 0, 2, 9), names: [] }, { wire: Uint8Array.of(192, 0, 2, 1), names: [] }], zone('www.example.com.'))
    const owner = zone('WWW.Example.com.')
    const signed = signCanonical([{ tag: key.tag, algorithm, privateKey: key.privateKey }], zone('example.com.'), { validityS: 86_400, refreshS: 21_600, jitterS: 0 }, owner, 1, 30, canonicalRRset(owner, 1, 30, rrset.records), NOW, 0.5)
    const rdata = Buffer.from(signed.rrsig.records[0]!.plain.subarray(10))
    expect(rdata.readUInt16BE(0)).toBe(1)
    expect(rdata[3]).toBe(labelCount(owner))
    expect(rdata.readUInt32BE(8)).toBe(NOW + 86_400)
    expect(rdata.readUInt32BE(12)).toBe(NOW - 3600)
    const fieldsLength = 18 + 13
    const data = Buffer.concat([rdata.subarray(0, fieldsLength), canonicalRRset(owner, 1, 30, rrset.records)])
    const publicKey = createPublicKey(key.privateKey)
    const ok = algorithm === 13 ? verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rdata.subarray(fieldsLength)) : verify(null, data, publicKey, rdata.subarray(fieldsLength))
    expect(ok).toBe(true)
    expect(signed.refreshAt).toBe(NOW + 86_400 - 21_600)
    // Canonical order: 192.0.2.1 before 192.0.2.9, whatever the zone file's order.
    expect(Buffer.from(canonicalRRset(owner, 1, 30, rrset.records)).toString('hex')).toContain('c0000201' + '0377777707')
  })

  it('a wildcard owner\'s Labels field leaves out the *', () => {
    expect(labelCount(zone('*.apps.example.com.'))).toBe(3)
    expect(labelCount(zone('x.apps.example.com.'))).toBe(4)
  })
})

describe('signZone', () => {
  const model = (() => {
    const text = '$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nsub NS ns1.sub\nns1.sub A 192.0.2.2\n'
    const parsed = parseZoneFile('example.com.zone', zone('example.com.'), () => text)
    if (!parsed.ok) throw new Error('parse')
    const built = buildZone(parsed.zone, 'example.com.zone')
    if (!built.ok) throw new Error('build')
    return built.zone
  })()
  const settings = { times: { validityS: 86_400 * 14, refreshS: 86_400 * 3, jitterS: 0 }, dnskeyTtl: 3600, publishCds: true, cacheSize: 1000 }

  it('the apex gets DNSKEY, CDNSKEY and CDS (RFC 8078); every authoritative RRset is signed, the delegation\'s NS and glue are not', () => {
    const key = makeKey(13)
    const signed = signZone(model, [key], settings, NOW, new Map())
    const apex = signed.zone.nodes.get(model.key)!
    expect([...apex.types].sort((a, b) => a - b)).toEqual([2, 6, 48, 59, 60])
    const cds = apex.answers[apex.types.indexOf(59)]!.answer[0]!.rrset
    expect(Buffer.from(cds.records[0]!.plain.subarray(10))).toEqual(Buffer.from(dsRdata(model.origin, key.rdata)))
    // SOA, NS, ns1 A, DNSKEY, CDNSKEY, CDS: not sub's NS, not its glue.
    expect(signed.signing?.statics.size).toBe(6)
    expect(signed.nextEventS).toBe(NOW + 86_400 * 11)
  })

  it('signing again reuses every signature not yet due; a key not yet active leaves the zone unsigned until its time', () => {
    const key = makeKey(13)
    const first = signZone(model, [key], settings, NOW, new Map())
    const again = signZone(model, [key], settings, NOW + 60, first.signatures)
    expect([...again.signatures.values()]).toEqual([...first.signatures.values()])
    const later = makeKey(15, { publish: NOW, activate: NOW + 100, inactive: undefined, delete: undefined })
    const waiting = signZone(model, [later], settings, NOW, new Map())
    expect(waiting.signing).toBeUndefined()
    expect(waiting.nextEventS).toBe(NOW + 100)
    expect(waiting.zone.nodes.get(model.key)!.types).toContain(48)
  })
})
