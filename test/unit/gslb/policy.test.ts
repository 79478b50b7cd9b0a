// GSLB policies as pure functions, table-driven: a zone and a config in, then health and admin
// state as plain inputs, and the addresses each answer would carry.

import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../server/config/load-config.ts'
import { nearestSite } from '../../../server/gslb/nearest.ts'
import { answerShares } from '../../../server/gslb/shares.ts'
import { compileZone } from '../../../server/zone/compile.ts'
import { parseName } from '../../../server/dns/name.ts'
import type { AnswerPlan } from '../../../server/dns/plan.ts'
import { buildGslb } from '../../../server/gslb/build.ts'
import { buildNameTables, type FamilyTable } from '../../../server/gslb/tables.ts'
import { MAX_CYCLE, smoothWeightedOrder } from '../../../server/gslb/weighted.ts'
import type { Location } from '../../../server/geo/location.ts'
import { nextShedding, scaledWeight } from '../../../server/gslb/load.ts'
import type { AdminEntry, AdminView, HealthView, LoadView } from '../../../server/gslb/types.ts'
import { zoneSet } from '../../../server/zone/zone-set.ts'
import { parseZoneFile } from '../../../server/zone/parse-zone.ts'
import { buildZone } from '../../../server/zone/build-zone.ts'

const TOKYO = '192.0.2.10'
const OSAKA = '198.51.100.10'
const FRANKFURT = '203.0.113.10'

const ZONE = `$ORIGIN p.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 60
@ NS ns1
ns1 A 192.0.2.1
n A ${TOKYO}
n A ${OSAKA}
n A ${FRANKFURT}
n AAAA 2001:db8:1::10
`
const SITES = `sites:
  tokyo: { vips: [${TOKYO}, "2001:db8:1::10"], weight: 5, location: { lat: 35.68, lon: 139.76, country: JP, continent: AS } }
  osaka: { vips: [${OSAKA}], weight: 3, location: { lat: 34.69, lon: 135.50, country: JP, continent: AS } }
  frankfurt: { vips: [${FRANKFURT}], weight: 2, location: { lat: 50.11, lon: 8.68, country: DE, continent: EU } }
geoip: { database: unused.mmdb }
`

/** The GSLB name `n.p.test.` configured by `nameYaml` (the body under it). */
function gslbName(nameYaml: string) {
  const origin = parseName('p.test.', undefined)
  if (!origin.ok) throw new Error()
  const parsed = parseZoneFile('/p.test.zone', origin.wire, () => ZONE)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
  const zone = buildZone(parsed.zone, '/p.test.zone')
  if (!zone.ok) throw new Error(JSON.stringify(zone.problems))
  const config = parseConfig('/signpost.yaml', `${SITES}names:\n  n.p.test.:\n${nameYaml.replace(/^/gm, '    ')}\n`)
  if (!config.ok) throw new Error(JSON.stringify(config.problems))
  const gslb = buildGslb(config.config, zoneSet([compileZone(zone.zone)]), config.locate)
  if (!gslb.ok) throw new Error(JSON.stringify(gslb.problems))
  return gslb.gslb.names[0]!
}

const admin = (servers: Record<string, Partial<AdminEntry>> = {}, sites: Record<string, Partial<AdminEntry>> = {}): AdminView => ({
  servers: new Map(Object.entries(servers).map(([k, v]) => [k, { state: v.state ?? 'enabled', weight: v.weight }])),
  sites: new Map(Object.entries(sites).map(([k, v]) => [k, { state: v.state ?? 'enabled', weight: v.weight }])),
})
const down = (...addresses: string[]): HealthView => new Map(addresses.map((a) => [a, 'down' as const]))

function addresses(plan: AnswerPlan): string[] {
  return plan.answer.map((ref) => ipaddr.fromByteArray([...ref.rrset.records[0]!.plain.subarray(10)]).toString())
}

/** First address of each of `turns` successive answers. */
function firstPicks(table: FamilyTable | undefined, turns: number): string[] {
  if (table?.kind !== 'rotation') throw new Error(`expected a rotation, got ${table?.kind}`)
  return Array.from({ length: turns }, (_, turn) => addresses(table.plans[turn % table.plans.length]!)[0]!)
}

function share(picks: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const p of picks) counts[p] = (counts[p] ?? 0) + 1
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / picks.length]))
}

describe('weighted', () => {
  const name = gslbName('policy: weighted')

  it('spreads 10,000 answers in proportion to the weights (5:3:2), within ±5%', () => {
    const spread = share(firstPicks(buildNameTables(name, new Map(), admin()).v4, 10_000))
    expect(spread[TOKYO]).toBeCloseTo(0.5, 1)
    expect(Math.abs(spread[TOKYO]! - 0.5)).toBeLessThan(0.025)
    expect(Math.abs(spread[OSAKA]! - 0.3)).toBeLessThan(0.015)
    expect(Math.abs(spread[FRANKFURT]! - 0.2)).toBeLessThan(0.01)
  })

  it.each([
    ['1e12 : 1', [1e12, 1]],
    ['100,000 : 3 : 1', [100_000, 3, 1]],
    ['1,000 servers of weight 1,000 and one of 1', [...Array.from({ length: 1000 }, () => 1000), 1]],
  ])('keeps a cycle of at most MAX_CYCLE + one step per server whatever the weights (%s), every weighted server in it', (_name, weights) => {
    const order = smoothWeightedOrder(weights)
    expect(order.length).toBeLessThanOrEqual(MAX_CYCLE + weights.length)
    weights.forEach((_weight, i) => expect(order).toContain(i))
  })

  it.each([
    [[1000, 999, 1, 500]],
    [[1000, 1000, 1]],
    [[7, 1000, 333, 999, 2, 650]],
  ])('scales weights of 0-1000 past MAX_CYCLE with shares within 0.1%% (%j)', (weights) => {
    const order = smoothWeightedOrder(weights)
    expect(order.length).toBeLessThanOrEqual(MAX_CYCLE + weights.length)
    const total = weights.reduce((a, b) => a + b, 0)
    weights.forEach((weight, i) => expect(Math.abs(order.filter((pick) => pick === i).length / order.length - weight / total)).toBeLessThan(0.001))
  })

  it('interleaves picks rather than bunching them (smooth WRR)', () => {
    expect(firstPicks(buildNameTables(name, new Map(), admin()).v4, 10)).toEqual([TOKYO, OSAKA, FRANKFURT, TOKYO, TOKYO, OSAKA, TOKYO, FRANKFURT, OSAKA, TOKYO])
  })

  it.each([
    ['a down server leaves the rotation', down(TOKYO), admin(), { [OSAKA]: 0.6, [FRANKFURT]: 0.4 }],
    ['an admin weight overrides the configured one', new Map(), admin({ [FRANKFURT]: { weight: 5 } }), { [TOKYO]: 5 / 13, [OSAKA]: 3 / 13, [FRANKFURT]: 5 / 13 }],
    ['a site-level weight applies to its servers', new Map(), admin({}, { osaka: { weight: 0 } }), { [TOKYO]: 5 / 7, [FRANKFURT]: 2 / 7 }],
  ] as const)('%s', (_name, health, adminView, expected) => {
    const spread = share(firstPicks(buildNameTables(name, health, adminView).v4, 1300))
    for (const [address, fraction] of Object.entries(expected)) expect(spread[address]).toBeCloseTo(fraction, 2)
    expect(Object.keys(spread).sort()).toEqual(Object.keys(expected).sort())
  })

  it('answers up to max_answers distinct servers, led by the weighted pick', () => {
    const table = buildNameTables(gslbName('policy: weighted\nmax_answers: 2'), new Map(), admin()).v4
    if (table?.kind !== 'rotation') throw new Error()
    for (const plan of table.plans) {
      const picked = addresses(plan)
      expect(picked).toHaveLength(2)
      expect(new Set(picked).size).toBe(2)
    }
  })
})

describe('failover', () => {
  const name = gslbName('policy: failover\norder: [tokyo, [osaka, frankfurt]]\nwhen_down: nodata\nnegative_ttl: 7')
  it.each([
    ['the first group while it has a healthy server', new Map(), admin(), [[TOKYO]]],
    ['the next group, rotated, when the first is down', down(TOKYO), admin(), [[OSAKA, FRANKFURT], [FRANKFURT, OSAKA]]],
    ['the next group when the first is disabled by an operator', new Map(), admin({}, { tokyo: { state: 'disabled' } }), [[OSAKA, FRANKFURT], [FRANKFURT, OSAKA]]],
    ['within a group, only its healthy servers', down(TOKYO, OSAKA), admin(), [[FRANKFURT]]],
  ] as const)('answers %s', (_name, health, adminView, expected) => {
    const table = buildNameTables(name, health, adminView).v4
    if (table?.kind !== 'rotation') throw new Error()
    expect(table.plans.map(addresses)).toEqual(expected)
  })

  it('answers NODATA with its negative TTL when nothing is healthy (when_down: nodata)', () => {
    const table = buildNameTables(name, down(TOKYO, OSAKA, FRANKFURT), admin()).v4
    expect(table).toMatchObject({ kind: 'fixed', reason: 'nodata' })
    if (table?.kind !== 'fixed') throw new Error()
    expect(table.plan.answer).toEqual([])
    expect(table.plan.authority[0]?.rrset.ttl).toBe(7)
  })
})

describe('nearest', () => {
  const name = gslbName('policy: nearest')
  const at = (lat: number, lon: number): Location => ({ lat, lon, country: undefined, continent: undefined })
  const nearest = (health: HealthView, client: Location, adminView = admin()) => {
    const table = buildNameTables(name, health, adminView).v4
    if (table?.kind !== 'nearest') throw new Error()
    return nearestSite(table.sites, client)?.site
  }

  it.each([
    ['London goes to Frankfurt', at(51.51, -0.09), 'frankfurt'],
    ['Tokyo goes to Tokyo', at(35.69, 139.75), 'tokyo'],
    ['Kyoto goes to Osaka', at(35.01, 135.77), 'osaka'],
    ['Seattle goes to Tokyo (across the Pacific, not Frankfurt)', at(47.6, -122.3), 'tokyo'],
  ])('%s', (_name, client, site) => {
    expect(nearest(new Map(), client)).toBe(site)
  })

  it('skips a down site for the next nearest', () => {
    expect(nearest(down(TOKYO), at(35.69, 139.75))).toBe('osaka')
  })

  it('matches by country, then continent, when coordinates are missing', () => {
    expect(nearest(new Map(), { lat: undefined, lon: undefined, country: 'DE', continent: 'EU' })).toBe('frankfurt')
    expect(nearest(new Map(), { lat: undefined, lon: undefined, country: 'KR', continent: 'AS' })).toBe('tokyo')
  })

  it('breaks a distance tie by weight', () => {
    const sites = [
      { site: 'light', location: at(10, 10), weight: 1, plans: [] },
      { site: 'heavy', location: at(10, 10), weight: 9, plans: [] },
    ]
    expect(nearestSite(sites, at(0, 0))?.site).toBe('heavy')
  })

  it('answers the same site for A and AAAA', () => {
    const tables = buildNameTables(name, new Map(), admin())
    if (tables.v4?.kind !== 'nearest' || tables.v6?.kind !== 'nearest') throw new Error()
    const client = at(35.69, 139.75)
    expect(nearestSite(tables.v4.sites, client)?.site).toBe(nearestSite(tables.v6.sites, client)?.site)
  })

  it('falls back to weighted over every healthy server for an unknown location', () => {
    const table = buildNameTables(name, down(OSAKA), admin()).v4
    if (table?.kind !== 'nearest') throw new Error()
    expect(new Set(table.unlocated.flatMap(addresses))).toEqual(new Set([TOKYO, FRANKFURT]))
  })
})

describe('all', () => {
  it('answers every healthy server, rotated per query, up to max_answers', () => {
    const table = buildNameTables(gslbName('policy: all\nmax_answers: 2'), down(OSAKA), admin()).v4
    if (table?.kind !== 'rotation') throw new Error()
    expect(table.plans.map(addresses)).toEqual([[TOKYO, FRANKFURT], [FRANKFURT, TOKYO]])
  })
})

describe('admin states and nothing healthy', () => {
  const all = gslbName('policy: all')
  const answered = (health: HealthView, adminView: AdminView, name = all) => {
    const table = buildNameTables(name, health, adminView).v4
    if (!table) throw new Error()
    return { reason: table.reason, servers: new Set(table.kind === 'fixed' ? addresses(table.plan) : table.kind === 'rotation' ? addresses(table.plans[0]!) : table.servers.map((s) => s.address)) }
  }

  it.each([
    ['disabled is never answered, even when healthy', new Map(), admin({ [TOKYO]: { state: 'disabled' } }), 'healthy', [OSAKA, FRANKFURT]],
    ['drain is left out while others are healthy', new Map(), admin({ [TOKYO]: { state: 'drain' } }), 'healthy', [OSAKA, FRANKFURT]],
    ['drain is answered when nothing else is healthy', down(OSAKA, FRANKFURT), admin({ [TOKYO]: { state: 'drain' } }), 'drain-only', [TOKYO]],
    ['up is answered although its check says down', down(TOKYO), admin({ [TOKYO]: { state: 'up' } }), 'healthy', [TOKYO, OSAKA, FRANKFURT]],
    ['site state applies to all its servers', new Map(), admin({}, { frankfurt: { state: 'disabled' } }), 'healthy', [TOKYO, OSAKA]],
    ['the stronger of server and site state wins (disabled over up)', new Map(), admin({ [TOKYO]: { state: 'up' } }, { tokyo: { state: 'disabled' } }), 'healthy', [OSAKA, FRANKFURT]],
    ['fail_open answers every server not disabled when all are down', down(TOKYO, OSAKA, FRANKFURT), admin({ [OSAKA]: { state: 'disabled' } }), 'fail-open', [TOKYO, FRANKFURT]],
  ] as const)('%s', (_name, health, adminView, reason, expected) => {
    expect(answered(health, adminView)).toEqual({ reason, servers: new Set(expected) })
  })

  const allDown = down(TOKYO, OSAKA, FRANKFURT)
  it('when_down: servfail answers SERVFAIL', () => {
    const table = buildNameTables(gslbName('policy: all\nwhen_down: servfail'), allDown, admin()).v4
    expect(table).toMatchObject({ kind: 'fixed', reason: 'servfail', plan: { rcode: 2 } })
  })
  it('when_down: fallback to a site answers that site regardless of health', () => {
    expect(answered(allDown, admin(), gslbName('policy: all\nwhen_down: fallback\nfallback: osaka'))).toEqual({ reason: 'fallback', servers: new Set([OSAKA]) })
  })
  it('when_down: fallback to an address answers that address', () => {
    expect(answered(allDown, admin(), gslbName('policy: all\nwhen_down: fallback\nfallback: 192.0.2.99'))).toEqual({ reason: 'fallback', servers: new Set(['192.0.2.99']) })
  })
})

describe('load', () => {
  const loadView = (sites: Record<string, number>, shedding: Record<string, string[]> = {}): LoadView => ({
    sites: new Map(Object.entries(sites)),
    shedding: new Map(Object.entries(shedding).map(([k, v]) => [k, new Set(v)])),
  })
  const shed = { mode: 'shed' as const, shedAbove: 0.9, returnBelow: 0.75 }

  it('nextShedding: sheds above shed_above, returns below return_below, holds between them (hysteresis); with no fresh reading a site answers as without load', () => {
    const sites = ['tokyo', 'osaka', 'frankfurt']
    const step = (previous: string[], readings: Record<string, number>) => [...nextShedding(new Set(previous), sites, new Map(Object.entries(readings)), shed)].sort()
    expect(step([], { tokyo: 0.95, osaka: 0.5 })).toEqual(['tokyo'])
    // 0.8 is between the watermarks: tokyo stays shedding, osaka (not shedding) stays in.
    expect(step(['tokyo'], { tokyo: 0.8, osaka: 0.8 })).toEqual(['tokyo'])
    expect(step(['tokyo'], { tokyo: 0.74 })).toEqual([])
    // Exactly at a watermark is not beyond it.
    expect(step([], { tokyo: 0.9 })).toEqual([])
    expect(step(['tokyo'], { tokyo: 0.75 })).toEqual(['tokyo'])
    // No fresh reading (none, or stale): neither 0 nor 1; the site is answered as without load.
    expect(step(['tokyo'], {})).toEqual([])
    expect(step([], {})).toEqual([])
  })

  it('a site at the watermark does not flap: readings around 0.9 shed once and stay until below 0.75', () => {
    const readings = [0.89, 0.91, 0.88, 0.92, 0.86, 0.8, 0.76, 0.74, 0.8, 0.89]
    let shedding = new Set<string>()
    const states = readings.map((u) => (shedding = nextShedding(shedding, ['tokyo'], new Map([['tokyo', u]]), shed)).has('tokyo'))
    expect(states).toEqual([false, true, true, true, true, true, true, false, false, false])
  })

  it('scaledWeight: weight × headroom, never below the floor; unknown keeps the weight', () => {
    expect(scaledWeight(10, 0.25, 0.1)).toBe(7.5)
    expect(scaledWeight(10, 1, 0.1)).toBe(1)
    expect(scaledWeight(10, 0.99, 0.1)).toBe(1)
    expect(scaledWeight(10, undefined, 0.1)).toBe(10)
  })

  it('scale: a busy site gets fewer first picks in proportion to its headroom', () => {
    const name = gslbName('policy: weighted\nweights: { tokyo: 1, osaka: 1, frankfurt: 1 }\nload: { mode: scale, floor: 0.1 }')
    const spread = share(firstPicks(buildNameTables(name, new Map(), admin(), loadView({ tokyo: 0.8, osaka: 0 })).v4, 2100))
    // Headroom 0.2 : 1 : 1 (frankfurt unknown: its weight as is).
    expect(spread[TOKYO]).toBeCloseTo(0.2 / 2.2, 2)
    expect(spread[OSAKA]).toBeCloseTo(1 / 2.2, 2)
    expect(spread[FRANKFURT]).toBeCloseTo(1 / 2.2, 2)
    // At full load the floor keeps a share.
    expect(share(firstPicks(buildNameTables(name, new Map(), admin(), loadView({ tokyo: 1 })).v4, 2100))[TOKYO]).toBeCloseTo(0.1 / 2.1, 2)
  })

  it('shed: a shedding site takes no new clients, the table says which; a health verdict or the operator still wins', () => {
    const name = gslbName('policy: all\nload: { mode: shed }')
    const table = buildNameTables(name, new Map(), admin(), loadView({ tokyo: 0.95 }, { [name.key]: ['tokyo'] })).v4
    expect(table?.servers.map((s) => s.address)).toEqual([OSAKA, FRANKFURT])
    expect(table?.shed).toEqual(['tokyo'])
    expect(table?.reason).toBe('healthy')
    // Forced up: stays in, load or not.
    expect(buildNameTables(name, new Map(), admin({ [TOKYO]: { state: 'up' } }), loadView({}, { [name.key]: ['tokyo'] })).v4?.servers.map((s) => s.address)).toEqual([TOKYO, OSAKA, FRANKFURT])
    // Down stays out, shedding or not: only frankfurt is left.
    expect(buildNameTables(name, down(OSAKA), admin(), loadView({}, { [name.key]: ['tokyo'] })).v4?.servers.map((s) => s.address)).toEqual([FRANKFURT])
  })

  it('shed: when every eligible site sheds, they all keep answering (there is nowhere better)', () => {
    const name = gslbName('policy: all\nload: { mode: shed }')
    const table = buildNameTables(name, down(FRANKFURT), admin(), loadView({}, { [name.key]: ['tokyo', 'osaka'] })).v4
    expect(table?.servers.map((s) => s.address)).toEqual([TOKYO, OSAKA])
    expect(table?.shed).toEqual([])
  })

  it('nearest spills over: when the nearest site sheds, its clients go to the next nearest', () => {
    const name = gslbName('policy: nearest\nload: { mode: shed }')
    const table = buildNameTables(name, new Map(), admin(), loadView({}, { [name.key]: ['tokyo'] })).v4
    if (table?.kind !== 'nearest') throw new Error()
    expect(nearestSite(table.sites, { lat: 35.69, lon: 139.75, country: undefined, continent: undefined })?.site).toBe('osaka')
  })

  it('a name with load off ignores load entirely', () => {
    const name = gslbName('policy: all')
    expect(buildNameTables(name, new Map(), admin(), loadView({ tokyo: 1 }, { [name.key]: ['tokyo'] })).v4?.servers.map((s) => s.address)).toEqual([TOKYO, OSAKA, FRANKFURT])
  })
})

describe('answer shares (what-if)', () => {
  const at = (lat: number, lon: number, country: string, continent: string): Location => ({ lat, lon, country, continent })
  const groups = [
    { location: at(51.5, -0.1, 'GB', 'EU'), addresses: 300 },
    { location: at(35.0, 135.0, 'JP', 'AS'), addresses: 100 },
  ]

  it('nearest: each group goes to its nearest site, the world and regions weighted by addresses', () => {
    const shares = answerShares(gslbName('policy: nearest'), buildNameTables(gslbName('policy: nearest'), new Map(), admin()).v4!, groups)
    expect(shares).toEqual({ mode: 'healthy', world: { frankfurt: 0.75, osaka: 0.25 }, continents: { AS: { osaka: 1 }, EU: { frankfurt: 1 } }, countries: { GB: { frankfurt: 1 }, JP: { osaka: 1 } } })
  })

  it('weighted: the first addresses of the rotation, the same everywhere', () => {
    const name = gslbName('policy: weighted')
    expect(answerShares(name, buildNameTables(name, new Map(), admin()).v4!, groups).countries).toEqual({ GB: { frankfurt: 0.2, osaka: 0.3, tokyo: 0.5 }, JP: { frankfurt: 0.2, osaka: 0.3, tokyo: 0.5 } })
  })

  it('nothing to answer: the mode and no shares', () => {
    const name = gslbName('policy: all\nwhen_down: servfail')
    const down = new Map([TOKYO, OSAKA, FRANKFURT].map((a) => [a, 'down' as const]))
    expect(answerShares(name, buildNameTables(name, down, admin()).v4!, groups)).toEqual({ mode: 'servfail', world: {}, continents: {}, countries: {} })
  })
})
