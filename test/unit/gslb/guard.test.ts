// The guard rail, for each policy: a change that leaves a name no server to answer is named; one
// that leaves a server, or that finds the name already without one, is not.

import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../server/config/load-config.ts'
import { buildGslb, type GslbConfig } from '../../../server/gslb/build.ts'
import { namesLeftWithout } from '../../../server/gslb/guard.ts'
import type { AdminEntry, AdminView, HealthView } from '../../../server/gslb/types.ts'
import { zoneFromText } from '../../support/zone-text.ts'
import { zoneSet } from '../../../server/zone/zone-set.ts'

const ZONE = '$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\nwww A 192.0.2.20\nwww AAAA 2001:db8::10\n'

function gslb(policy: string): GslbConfig {
  const zone = zoneFromText('g.test.', ZONE)
  const config = parseConfig('/z/signpost.yaml', `geoip: { database: geo.mmdb }\nsites:\n  a: { vips: [192.0.2.10, 2001:db8::10], location: { lat: 1, lon: 2 } }\n  b: { vips: [192.0.2.20], location: { lat: 3, lon: 4 } }\nnames:\n  www.g.test.: { ${policy} }\n`)
  if (!config.ok) throw new Error(config.problems[0]?.message)
  const built = buildGslb(config.config, zoneSet([zone]), config.locate)
  if (!built.ok) throw new Error(built.problems[0]?.message)
  return built.gslb
}

const admin = (sites: Record<string, AdminEntry['state']>, servers: Record<string, AdminEntry['state']> = {}): AdminView => ({
  sites: new Map(Object.entries(sites).map(([k, state]) => [k, { state, weight: undefined }])),
  servers: new Map(Object.entries(servers).map(([k, state]) => [k, { state, weight: undefined }])),
})
const NONE = admin({})
const UP: HealthView = new Map()

describe.each(['policy: weighted', 'policy: all', 'policy: nearest', 'policy: failover, order: [a, b]'])('%s', (policy) => {
  const config = gslb(policy)

  it('disabling one server of two leaves the other: allowed; disabling the only IPv6 server leaves AAAA with none', () => {
    expect(namesLeftWithout(config.names, UP, NONE, admin({}, { '192.0.2.10': 'disabled' }))).toEqual([])
    expect(namesLeftWithout(config.names, UP, NONE, admin({ a: 'disabled' }))).toEqual(['www.g.test. AAAA'])
  })

  it('disabling both, or draining the last one, leaves nothing: named per record type', () => {
    expect(namesLeftWithout(config.names, UP, NONE, admin({ a: 'disabled', b: 'disabled' }))).toEqual(['www.g.test. A', 'www.g.test. AAAA'])
    expect(namesLeftWithout(config.names, UP, admin({ a: 'disabled' }), admin({ a: 'disabled', b: 'drain' }))).toEqual(['www.g.test. A'])
  })

  it('disabling the last healthy site while the other is down is refused; forcing a down server up counts as answerable', () => {
    const bDown: HealthView = new Map([['192.0.2.20', 'down']])
    expect(namesLeftWithout(config.names, bDown, NONE, admin({ a: 'disabled' }))).toEqual(['www.g.test. A', 'www.g.test. AAAA'])
    expect(namesLeftWithout(config.names, bDown, NONE, admin({ a: 'disabled', b: 'up' }))).toEqual(['www.g.test. AAAA'])
  })

  it('a name that already had no server is not blamed on the change', () => {
    expect(namesLeftWithout(config.names, UP, admin({ a: 'disabled', b: 'disabled' }), admin({ a: 'disabled', b: 'drain' }))).toEqual([])
  })
})
