// The name slots' cache policy, through the module's own functions: which names the cache holds
// (case folded, sets that don't evict in turn, admission on a second sighting), and which outcomes
// a snapshot's memo notes in them.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseName } from '../../../server/dns/name.ts'
import { findName, internName, notedOutcome, slotKey } from '../../../server/query/name-slots.ts'
import { resolveName } from '../../../server/query/resolve-name.ts'
import { buildSnapshot, EMPTY_GSLB, NO_ADMIN, type ResolvedName, type Snapshot } from '../../../server/query/snapshot.ts'
import { loadZoneFolder } from '../../../server/zone/load-zones.ts'
import { zoneSet } from '../../../server/zone/zone-set.ts'

let snapshot: Snapshot

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-slots-'))
  const crowd = Array.from({ length: 5000 }, (_, i) => `n${i}.crowd A 10.1.${i >> 8}.${i & 255}\n`).join('')
  writeFileSync(join(dir, 'slots.test.zone'), `$ORIGIN slots.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nmail A 192.0.2.25\n${crowd}`)
  const folder = loadZoneFolder(dir)
  if (!folder.ok || !folder.loads.every((l) => l.ok)) throw new Error(JSON.stringify(folder))
  snapshot = buildSnapshot(1, zoneSet(folder.loads.flatMap((l) => (l.ok ? [l.zone] : []))), EMPTY_GSLB, new Map(), NO_ADMIN, undefined)
})

/** A name in wire form, as it stands in a question. */
function wire(name: string): Uint8Array {
  const parsed = parseName(`${name}.`, undefined)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.wire
}

const intern = (name: string): number => {
  const bytes = wire(name)
  return internName(bytes, 0, bytes.length)
}
const held = (name: string): number => {
  const bytes = wire(name)
  return findName(bytes, 0, bytes.length)
}
const resolve = (name: string): ResolvedName | undefined => {
  const bytes = wire(name)
  return resolveName(snapshot, Buffer.concat([Buffer.alloc(12), bytes]), bytes.length)
}

describe('lookup keys', () => {
  it('names that differ only in case get one key; 5,000 names asked twice each get their own', () => {
    const key = (name: string): string => slotKey(intern(name))
    expect(key('WwW.Slots.TEST')).toBe(key('www.slots.test'))
    expect(key('WwW.Slots.TEST')).toBe('\x03www\x05slots\x04test\x00')
    const names = Array.from({ length: 5000 }, (_, i) => `n${i}.x${i % 7}.slots.test`)
    for (const round of [1, 2]) {
      for (const name of round === 1 ? names : [...names].reverse()) expect(keyAsDottedText(key(name.toUpperCase()))).toBe(name)
    }
  })
})

describe('which names the cache holds', () => {
  it('1,000 names asked in a cycle are all remembered (names sharing a set do not evict each other)', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `n${i}.crowd.slots.test`)
    names.forEach(intern) // first sightings: stored where a set has room, else noted as seen
    const stored = names.map(intern)
    const forgotten = names.filter((name, i) => held(name) !== stored[i] || intern(name) !== stored[i]).length
    // Direct-mapped, 46% of such a set of names shared a slot and were forgotten on every pass.
    expect(forgotten).toBeLessThan(30)
  })

  it('names asked once (a random-subdomain flood) neither get stored nor evict a hot name', () => {
    const hot = 'n4000.crowd.slots.test'
    intern(hot)
    const remembered = intern(hot)
    expect(held(hot)).toBe(remembered)
    for (let i = 0; i < 20_000; i++) expect(resolve(`flood${i}.slots.test`)).toMatchObject({ exact: false }) // NXDOMAIN all the same
    expect(held(hot)).toBe(remembered)
    expect(intern(hot)).toBe(remembered)
    expect(held('flood19999.slots.test')).toBe(-1)
  })
})

describe("a snapshot's memo", () => {
  it('a repeated name is answered from the memo its slot notes; names with one outcome share it', () => {
    resolve('mail.slots.test') // a first sighting, where the flood above filled its set
    const mail = resolve('mail.slots.test')
    expect(notedOutcome(snapshot.cache.names, intern('mail.slots.test'))).toBeGreaterThanOrEqual(0)
    expect(resolve('mail.slots.test')).toBe(mail)
    expect(mail).toMatchObject({ exact: true })
    // Two names that don't exist, below the same node: one outcome.
    expect(resolve('nothing-here.slots.test')).toBe(resolve('nor-here.slots.test'))
  })

  it("a new snapshot's memo knows nothing its predecessor noted", () => {
    resolve('mail.slots.test')
    const slot = intern('mail.slots.test')
    expect(notedOutcome(snapshot.cache.names, slot)).toBeGreaterThanOrEqual(0)
    const next = buildSnapshot(2, snapshot.zones, EMPTY_GSLB, new Map(), NO_ADMIN, undefined)
    expect(notedOutcome(next.cache.names, slot)).toBe(-1)
  })
})

/** Labels joined by dots, without escaping: how dns2 prints a name. */
function keyAsDottedText(key: string): string {
  const labels: string[] = []
  for (let at = 0; key.charCodeAt(at) !== 0; at += key.charCodeAt(at) + 1) labels.push(key.slice(at + 1, at + 1 + key.charCodeAt(at)))
  return labels.join('.')
}
