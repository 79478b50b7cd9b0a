// Our codec checked against an independent one (dns2's Packet), plus seeded fuzzing of decode.

import dns2 from 'dns2'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { RRType, Rcode, type Transport } from '../../../server/dns/types.ts'
import { decodeQuery } from '../../../server/dns/wire/decode.ts'
import { createPacketHandler, type PacketHandler } from '../../../server/net/handle-packet.ts'
import { CACHED_NAMES, internName, slotKey } from '../../../server/query/name-slots.ts'
import { buildSnapshot, EMPTY_GSLB, NO_ADMIN, withAdmin, withHealth } from '../../../server/query/snapshot.ts'
import { createStore, type Store } from '../../../server/query/store.ts'
import { loadInputs } from '../../../server/state/load-inputs.ts'
import { loadZoneFolder } from '../../../server/zone/load-zones.ts'
import { zoneSet } from '../../../server/zone/zone-set.ts'
import { buildQuery, type QueryOptions } from '../../support/query.ts'
import { fuzzPacket, seededRandom } from '../../support/random.ts'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const { Packet } = dns2
let store: Store
let handle: PacketHandler
const client = { address: '127.0.0.1', port: 1 }

const ZONE = `$ORIGIN codec.test.
$TTL 300
@       SOA   ns1 hostmaster 7 3600 900 604800 60
        NS    ns1
        NS    ns2.elsewhere.example.
        MX    10 mail
        MX    20 mail.elsewhere.example.
        TXT   "hello world" "second"
        CAA   0 issue "ca.example.net"
ns1     A     192.0.2.1
        AAAA  2001:db8::1
mail    A     192.0.2.25
_sip._tcp SRV 10 60 5060 sip
sip     A     192.0.2.60
ptr     PTR   host.codec.test.
alias   CNAME mail
*.wild  A     192.0.2.99
big     TXT   "${'a'.repeat(240)}" "${'b'.repeat(240)}"
many    MX    ( 1 many-target-0 )
`

function manyMx(count: number): string {
  const lines: string[] = []
  for (let i = 0; i < count; i++) lines.push(`many MX ${i} t${i}.many`, `t${i}.many A 10.0.${i >> 8}.${i & 255}`)
  return lines.join('\n') + '\n'
}

/** More names than the name slots hold, so some must share one (and what its memo notes). */
const CROWD = Array.from({ length: CACHED_NAMES + 500 }, (_, i) => ({ name: `n${i}.crowd.codec.test`, address: `10.1.${i >> 8}.${i & 255}` }))

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-codec-'))
  writeFileSync(join(dir, 'codec.test.zone'), ZONE.replace('many    MX    ( 1 many-target-0 )\n', '') + manyMx(1500) + CROWD.map(({ name, address }) => `${name}. A ${address}\n`).join(''))
  const folder = loadZoneFolder(dir)
  if (!folder.ok || !folder.loads.every((l) => l.ok)) throw new Error(JSON.stringify(folder))
  const zones = folder.loads.flatMap((l) => (l.ok ? [l.zone] : []))
  store = createStore(buildSnapshot(1, zoneSet(zones), EMPTY_GSLB, new Map(), NO_ADMIN, undefined))
  handle = createPacketHandler(store, pino({ level: 'silent' }), false, undefined)
})

function ask(name: string, type: number, transport: Transport = 'udp', options: QueryOptions = {}): ReturnType<typeof Packet.parse> {
  const reply = handle(buildQuery(name, type, options), client, transport)
  if (!reply) throw new Error('no reply')
  const parsed = Packet.parse(Buffer.from(reply))
  expect(parsed.errors).toEqual([])
  return parsed
}

describe('replies decoded by dns2', () => {
  it('A and AAAA', () => {
    expect(ask('ns1.codec.test', RRType.A).answers).toMatchObject([{ name: 'ns1.codec.test', type: RRType.A, ttl: 300, address: '192.0.2.1' }])
    expect(ask('ns1.codec.test', RRType.AAAA).answers).toMatchObject([{ type: RRType.AAAA, address: '2001:db8::1' }])
  })

  it('NS with compressed in-zone and uncompressed out-of-zone targets', () => {
    const r = ask('codec.test', RRType.NS)
    expect(r.answers.map((a) => (a as { ns: string }).ns)).toEqual(['ns1.codec.test', 'ns2.elsewhere.example'])
    expect(r.additionals).toMatchObject([{ name: 'ns1.codec.test', type: RRType.A }, { name: 'ns1.codec.test', type: RRType.AAAA }])
  })

  it('MX, TXT, CAA, SRV, PTR, SOA and CNAME data', () => {
    expect(ask('codec.test', RRType.MX).answers).toMatchObject([{ priority: 10, exchange: 'mail.codec.test' }, { priority: 20, exchange: 'mail.elsewhere.example' }])
    expect(ask('codec.test', RRType.TXT).answers).toMatchObject([{ data: ['hello world', 'second'] }])
    expect(ask('codec.test', RRType.CAA).answers).toMatchObject([{ flags: 0, tag: 'issue', value: 'ca.example.net' }])
    expect(ask('_sip._tcp.codec.test', RRType.SRV).answers).toMatchObject([{ priority: 10, weight: 60, port: 5060, target: 'sip.codec.test' }])
    expect(ask('ptr.codec.test', RRType.PTR).answers).toMatchObject([{ domain: 'host.codec.test' }])
    expect(ask('codec.test', RRType.SOA).answers).toMatchObject([{ primary: 'ns1.codec.test', admin: 'hostmaster.codec.test', serial: 7, refresh: 3600, retry: 900, expiration: 604800, minimum: 60 }])
    expect(ask('alias.codec.test', RRType.A).answers).toMatchObject([{ type: RRType.CNAME, domain: 'mail.codec.test' }, { name: 'mail.codec.test', address: '192.0.2.25' }])
  })

  it('a 60 KB TCP reply: pointers past 16 KB are written out in full, and dns2 reads every record', () => {
    const r = ask('many.codec.test', RRType.MX, 'tcp')
    expect(r.header.tc).toBe(0)
    expect(r.answers).toHaveLength(1500)
    expect((r.answers[1499] as { exchange: string }).exchange).toBe('t1499.many.codec.test')
    // Additional data past the 64 KB limit is left out without truncating.
    expect(r.additionals.length).toBeGreaterThan(100)
    const last = r.additionals[r.additionals.length - 1] as { name: string; address: string }
    const index = Number(/^t(\d+)\./.exec(last.name)?.[1])
    expect(last.address).toBe(`10.0.${index >> 8}.${index & 255}`)
  })

  it('the same reply over UDP is truncated to the question and OPT', () => {
    const r = ask('many.codec.test', RRType.MX, 'udp', { edns: {} })
    expect(r.header.tc).toBe(1)
    expect(r.answers).toEqual([])
    expect(r.additionals).toMatchObject([{ type: RRType.OPT }])
  })
})

describe('section cache (a repeated answer is copied, not re-encoded)', () => {
  it('a repeated answer is byte for byte the first one', () => {
    const queries = [
      buildQuery('ns1.codec.test', RRType.A),
      buildQuery('codec.test', RRType.NS, { edns: {} }),
      buildQuery('codec.test', RRType.MX),
      buildQuery('alias.codec.test', RRType.A),
      buildQuery('missing.codec.test', RRType.A, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 24, 0, 81, 2, 69) }] } }),
      buildQuery('x.wild.codec.test', RRType.A),
      buildQuery('ns1.codec.test', RRType.MX),
    ]
    const first = queries.map((q) => Buffer.from(handle(q, client, 'udp') as Uint8Array))
    const again = queries.map((q) => Buffer.from(handle(q, client, 'udp') as Uint8Array))
    expect(again).toEqual(first)
  })

  it('is keyed by the question name length too: one NXDOMAIN plan, names of different lengths', () => {
    // The SOA's owner is a pointer into the question, at the apex suffix: it moves with the length.
    for (const name of ['a.nowhere.codec.test', 'a-longer-name.nowhere.codec.test', 'a.nowhere.codec.test', 'a-longer-name.nowhere.codec.test']) {
      expect(ask(name, RRType.A)).toMatchObject({ header: { rcode: Rcode.NXDOMAIN }, authorities: [{ name: 'codec.test', type: RRType.SOA }] })
    }
    for (const name of ['a.wild.codec.test', 'a-longer-name.wild.codec.test', 'a.wild.codec.test']) {
      expect(ask(name, RRType.A).answers).toMatchObject([{ name, address: '192.0.2.99' }])
    }
  })

  it('echoes each question as asked, also when the answer came from the cache', () => {
    ask('ns1.codec.test', RRType.A)
    const r = ask('NS1.Codec.TEST', RRType.A)
    expect(r.questions[0]?.name).toBe('NS1.Codec.TEST')
    expect(r.answers).toMatchObject([{ name: 'NS1.Codec.TEST', address: '192.0.2.1' }])
  })

  it('a cached answer too big for the next client is truncated for it', () => {
    expect(ask('big.codec.test', RRType.TXT, 'udp', { edns: {} })).toMatchObject({ header: { tc: 0 }, answers: [{ type: RRType.TXT }] })
    expect(ask('big.codec.test', RRType.TXT)).toMatchObject({ header: { tc: 1 }, answers: [] })
    expect(ask('big.codec.test', RRType.TXT, 'udp', { edns: {} })).toMatchObject({ header: { tc: 0 }, answers: [{ type: RRType.TXT }] })
  })
})

describe('names of the longest wire length', () => {
  it('names of the longest wire length (255 octets) are kept whole and told apart', () => {
    const labels = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(45)}`
    const wild = `${labels}.wild.codec.test`
    const missing = `${labels}.wilx.codec.test`
    expect(buildQuery(wild, RRType.A).length - 12 - 4).toBe(255)
    for (let round = 0; round < 2; round++) {
      expect(ask(wild, RRType.A)).toMatchObject({ header: { rcode: Rcode.NOERROR }, answers: [{ name: wild, address: '192.0.2.99' }] })
      expect(ask(wild.toUpperCase(), RRType.A)).toMatchObject({ answers: [{ address: '192.0.2.99' }] })
      expect(ask(missing, RRType.A)).toMatchObject({ header: { rcode: Rcode.NXDOMAIN } })
    }
  })
})

describe('name memo (where a name resolved, kept per snapshot)', () => {
  it('names that share a memo slot each get their own answer, asked in any order', () => {
    for (const order of [CROWD, [...CROWD].reverse(), CROWD]) {
      for (const { name, address } of order) expect(ask(name, RRType.A).answers).toMatchObject([{ name, address }])
    }
  })

  it('a new snapshot answers from its own state, for names asked of the old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-memo-'))
    writeFileSync(join(dir, 'memo.test.zone'), '$ORIGIN memo.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\nwww A 192.0.2.20\n')
    writeFileSync(join(dir, 'signpost.yaml'), 'sites:\n  a: { vips: [192.0.2.10] }\n  b: { vips: [192.0.2.20] }\nnames:\n  www.memo.test.: { policy: failover, order: [a, b] }\n')
    const loaded = await loadInputs({ configFile: join(dir, 'signpost.yaml'), zonesDir: dir })
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
    const { zones, gslb } = loaded.inputs
    const store = createStore(buildSnapshot(1, zones, gslb, new Map(), NO_ADMIN, undefined))
    const memoHandle = createPacketHandler(store, pino({ level: 'silent' }), false, undefined)
    const www = (): string[] => Packet.parse(Buffer.from(memoHandle(buildQuery('www.memo.test', RRType.A), client, 'udp') as Uint8Array)).answers.map((a) => (a as { address: string }).address)
    expect(www()).toEqual(['192.0.2.10'])
    store.publish(withHealth(store.current, new Map([['192.0.2.10', 'down']])))
    expect(www()).toEqual(['192.0.2.20'])
    store.publish(withAdmin(store.current, { servers: new Map([['192.0.2.20', { state: 'disabled', weight: undefined }]]), sites: new Map() }))
    expect(www()).toEqual(['192.0.2.10']) // nothing healthy and enabled: fail-open to what is not disabled
    // A reload: the same name is now plain zone data.
    writeFileSync(join(dir, 'signpost.yaml'), 'sites: {}\n')
    writeFileSync(join(dir, 'memo.test.zone'), '$ORIGIN memo.test.\n$TTL 60\n@ SOA ns1 hostmaster 2 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.30\n')
    const reloaded = await loadInputs({ configFile: join(dir, 'signpost.yaml'), zonesDir: dir })
    if (!reloaded.ok) throw new Error(JSON.stringify(reloaded.problems))
    store.publish(buildSnapshot(2, reloaded.inputs.zones, reloaded.inputs.gslb, new Map(), NO_ADMIN, undefined))
    expect(www()).toEqual(['192.0.2.30'])
  })
})

describe('decode outcomes', () => {
  const header = (bytes: number[]): Uint8Array => Uint8Array.from(bytes)
  it.each([
    ['shorter than a header is dropped', header([1, 2, 3]), 'drop'],
    ['a response (QR=1) is dropped', (() => { const q = buildQuery('a.test', 1); q[2] = (q[2] as number) | 0x80; return q })(), 'drop'],
    ['two questions is FORMERR', (() => { const q = buildQuery('a.test', 1); q.writeUInt16BE(2, 4); return q })(), Rcode.FORMERR],
    ['no question is FORMERR', header([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Rcode.FORMERR],
    ['a truncated question is FORMERR', buildQuery('a.test', 1).subarray(0, 16), Rcode.FORMERR],
    ['trailing garbage is FORMERR', Buffer.concat([buildQuery('a.test', 1), Buffer.of(1, 2, 3)]), Rcode.FORMERR],
    ['opcode NOTIFY is NOTIMP', buildQuery('a.test', 1, { opcode: 4 }), Rcode.NOTIMP],
    ['EDNS version 1 is BADVERS', buildQuery('a.test', 1, { edns: { version: 1 } }), Rcode.BADVERS],
    ['two OPT records is FORMERR', (() => { const q = buildQuery('a.test', 1, { edns: {} }); const opt = q.subarray(q.length - 11); const two = Buffer.concat([q, opt]); two.writeUInt16BE(2, 10); return two })(), Rcode.FORMERR],
    ['ECS with a non-zero scope is FORMERR', buildQuery('a.test', 1, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 24, 8, 10, 0, 0) }] } }), Rcode.FORMERR],
    ['ECS with address bytes beyond the prefix is FORMERR', buildQuery('a.test', 1, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 8, 0, 10, 0) }] } }), Rcode.FORMERR],
    ['ECS with bits set past the prefix is FORMERR', buildQuery('a.test', 1, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 7, 0, 11) }] } }), Rcode.FORMERR],
    ['ECS of an unknown family is FORMERR', buildQuery('a.test', 1, { edns: { options: [{ code: 8, data: Buffer.of(0, 9, 0, 0) }] } }), Rcode.FORMERR],
  ])('%s', (_name, packet, expected) => {
    const decoded = decodeQuery(packet)
    if (expected === 'drop') expect(decoded.kind).toBe('drop')
    else expect(decoded).toMatchObject({ kind: 'reject', rcode: expected })
  })

  it.each([
    ['IPv4 /24', Buffer.of(0, 1, 24, 0, 81, 2, 69), { family: 1, sourcePrefix: 24, address: Uint8Array.of(81, 2, 69) }],
    ['IPv6 /56 (odd-byte prefix)', Buffer.of(0, 2, 56, 0, 0x20, 0x01, 0x02, 0x18, 0, 0, 0xab), { family: 2, sourcePrefix: 56, address: Uint8Array.of(0x20, 0x01, 0x02, 0x18, 0, 0, 0xab) }],
    ['IPv4 /0', Buffer.of(0, 1, 0, 0), { family: 1, sourcePrefix: 0, address: new Uint8Array(0) }],
  ])('decodes ECS %s', (_name, data, expected) => {
    const decoded = decodeQuery(buildQuery('a.test', 1, { edns: { options: [{ code: 10, data: Buffer.alloc(8) }, { code: 8, data }] } }))
    expect(decoded.kind).toBe('query')
    if (decoded.kind !== 'query') return
    const subnet = decoded.edns?.clientSubnet
    if (!subnet) throw new Error('no ECS')
    const { addressAt, addressLength, ...fields } = subnet
    expect({ ...fields, address: [...decoded.packet.subarray(addressAt, addressAt + addressLength)] }).toEqual({ ...expected, address: [...expected.address], scopePrefix: 0 })
  })

  it('lowercases the lookup key but keeps the question bytes as sent', () => {
    const packet = buildQuery('WwW.Codec.TEST', 1)
    const decoded = decodeQuery(packet)
    expect(decoded.kind).toBe('query')
    if (decoded.kind !== 'query') return
    expect(slotKey(internName(packet, 12, decoded.nameLength))).toBe('\x03www\x05codec\x04test\x00')
    const reply = Packet.parse(Buffer.from(handle(packet, client, 'udp') as Uint8Array))
    expect(reply.questions[0]?.name).toBe('WwW.Codec.TEST')
  })
})

/** Labels joined by dots, without escaping: how dns2 prints a name. */
function keyAsDottedText(key: string): string {
  const labels: string[] = []
  for (let at = 0; key.charCodeAt(at) !== 0; at += key.charCodeAt(at) + 1) labels.push(key.slice(at + 1, at + 1 + key.charCodeAt(at)))
  return labels.join('.')
}

describe('fuzzing (seeded, bounded)', () => {
  it('100,000 random and mutated packets: never throws, every reply parses, and agrees with dns2 on the question', () => {
    const random = seededRandom(20261123)
    const seeds = [
      buildQuery('www.codec.test', RRType.A),
      buildQuery('codec.test', RRType.MX, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 24, 0, 81, 2, 69) }] } }),
      buildQuery('alias.codec.test', RRType.ANY, { edns: { udpSize: 4096 } }),
      buildQuery('x.many.codec.test', RRType.TXT),
    ]
    const outcomes = { query: 0, reject: 0, drop: 0 }
    for (let i = 0; i < 100_000; i++) {
      const packet = fuzzPacket(random, seeds)
      const decoded = decodeQuery(packet)
      outcomes[decoded.kind]++
      const key = decoded.kind === 'query' ? slotKey(internName(packet, 12, decoded.nameLength)) : '' // answering may give the slot to the name's parent
      const reply = handle(packet, client, i % 2 === 0 ? 'udp' : 'tcp')
      if (decoded.kind === 'drop') {
        expect(reply).toBeUndefined()
        continue
      }
      expect(reply).toBeDefined()
      const bytes = Buffer.from(reply as Uint8Array)
      expect(bytes.readUInt16BE(0)).toBe(Buffer.from(packet).readUInt16BE(0))
      expect(bytes[2]! & 0x80).toBe(0x80)
      if (decoded.kind === 'query') {
        const theirs = Packet.parse(Buffer.from(packet))
        const name = theirs.questions[0]?.name
        if (name !== undefined && !/[^\x21-\x7e]/.test(name) && !name.includes('\\')) {
          expect(keyAsDottedText(key)).toBe(name.toLowerCase())
        }
      }
    }
    // The corpus really exercised every path.
    expect(outcomes.query).toBeGreaterThan(1000)
    expect(outcomes.reject).toBeGreaterThan(1000)
    expect(outcomes.drop).toBeGreaterThan(1000)
  })
})
