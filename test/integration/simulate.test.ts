// POST /v1/simulate against the answers the server actually gives: what the what-if says each
// country would get after a change is what dig gets (ECS from that country's networks) once the
// change is made for real; weighted shares are what a cycle of real answers holds; a simulation
// changes nothing.

import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { startTestServer } from '../support/server.ts'

const TOKEN = 'simulate-token'
const SITE_OF: Record<string, string> = { '192.0.2.10': 'tokyo', '198.51.100.10': 'osaka', '203.0.113.10': 'frankfurt' }
/** One network per country of the MaxMind test database's IPv4 part. */
const NETWORKS: Record<string, string> = { GB: '81.2.69.142/31', BT: '67.43.156.0/24', SE: '89.160.20.112/28', CN: '175.16.199.0/24', PH: '202.196.224.0/20', US: '216.160.83.56/29' }

let server: Awaited<ReturnType<typeof startTestServer>>
type Simulation = { population: Record<string, any>; guard: { refused: boolean; names: string[] }; falls: Record<string, string>[]; names: Record<string, any>[] }
const simulate = async (changes: unknown[]): Promise<{ status: number; body: Simulation & { error?: string } }> => {
  const reply = await fetch(`http://${server.adminAddress}/v1/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ changes }) })
  return { status: reply.status, body: (await reply.json()) as Simulation & { error?: string } }
}
const write = (method: string, path: string, body?: unknown) =>
  fetch(`http://${server.adminAddress}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
const nameOf = (body: Simulation, fqdn: string) => body.names.find((n) => n.name === fqdn) as Record<string, any>
/** The site of the first address dig gets, from a client in `network`. */
const siteFor = async (name: string, network: string): Promise<string> => SITE_OF[(await dig(server.port, [`+subnet=${network}`, name, 'A'])).answer[0]?.split(' ')[4] ?? ''] ?? 'none'
/** How many of `count` real answers lead with each site. */
const leading = async (name: string, count: number): Promise<Record<string, number>> => {
  const counts: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const site = SITE_OF[(await dig(server.port, [name, 'A'])).answer[0]?.split(' ')[4] ?? ''] ?? 'none'
    counts[site] = (counts[site] ?? 0) + 1
  }
  return counts
}

beforeAll(async () => {
  server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), adminToken: TOKEN })
})
afterAll(async () => {
  await server.close()
})

describe('simulate', () => {
  it('shares clients out by the GeoIP database IPv4 address space', async () => {
    const { status, body } = await simulate([])
    expect(status).toBe(200)
    // 12 networks: GB 8+2+16+32+16, BT 256, SE 16+128, CN 256, PH 4096, US 8192+8.
    expect(body.population).toEqual({ by: 'IPv4 address space of the GeoIP database', networks: 12, addresses: 13_026 })
    expect(nameOf(body, 'geo.gslb.test.')['A'].changed).toBe(false)
  })

  it('draining frankfurt: each country gets after the drain what the what-if said (nearest, checked with dig)', async () => {
    const { body } = await simulate([{ target: 'site:frankfurt', state: 'drain' }])
    const geo = nameOf(body, 'geo.gslb.test.')['A']
    expect(geo.before.continents['EU']).toEqual({ frankfurt: 1 })
    expect(Object.keys(geo.countries).sort()).toEqual(['GB', 'SE'])
    for (const [country, network] of Object.entries(NETWORKS)) {
      const before = geo.countries[country]?.before ?? geo.before.continents[country === 'US' ? 'NA' : ['GB', 'SE'].includes(country) ? 'EU' : 'AS']
      expect({ country, site: await siteFor('geo.gslb.test.', network) }).toEqual({ country, site: Object.keys(before).find((site) => before[site] === 1) })
    }
    expect((await write('PUT', '/v1/sites/frankfurt/state', { state: 'drain', reason: 'rehearsed' })).status).toBe(200)
    try {
      for (const country of ['GB', 'SE']) {
        const after = geo.countries[country].after as Record<string, number>
        expect(after['frankfurt']).toBeUndefined()
        expect({ country, site: await siteFor('geo.gslb.test.', NETWORKS[country] as string) }).toEqual({ country, site: Object.keys(after).find((site) => after[site] === 1) })
      }
    } finally {
      await write('DELETE', '/v1/sites/frankfurt/state')
    }
  })

  it('a weight change: the world shares are what a cycle of real answers holds (weighted, checked with dig)', async () => {
    const { body } = await simulate([{ target: 'site:frankfurt', weight: 0 }])
    const www = nameOf(body, 'www.gslb.test.')['A']
    expect(www.before.world).toEqual({ frankfurt: 0.2, osaka: 0.3, tokyo: 0.5 })
    expect(www.after.world).toEqual({ osaka: 0.375, tokyo: 0.625 })
    expect(await leading('www.gslb.test.', 20)).toEqual({ frankfurt: 4, osaka: 6, tokyo: 10 })
    expect((await write('PUT', '/v1/sites/frankfurt/weight', { weight: 0, reason: 'rehearsed' })).status).toBe(200)
    try {
      expect(await leading('www.gslb.test.', 16)).toEqual({ osaka: 6, tokyo: 10 })
    } finally {
      await write('DELETE', '/v1/sites/frankfurt/weight')
    }
  })

  it('every site down: the names that would fall to fail-open or nodata, and the guard rail a write would meet', async () => {
    const down = await simulate(['tokyo', 'osaka', 'frankfurt'].map((site) => ({ target: `site:${site}`, health: 'down' })))
    expect([...down.body.falls].sort((a, b) => (a.name as string).localeCompare(b.name as string) || (a.type as string).localeCompare(b.type as string))).toEqual([
      { name: 'fo.gslb.test.', type: 'A', from: 'healthy', to: 'nodata' },
      { name: 'geo.gslb.test.', type: 'A', from: 'healthy', to: 'fail-open' },
      { name: 'geo.gslb.test.', type: 'AAAA', from: 'healthy', to: 'fail-open' },
      { name: 'www.gslb.test.', type: 'A', from: 'healthy', to: 'fail-open' },
    ].sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type)))
    expect(down.body.guard.refused).toBe(false)
    const disabled = await simulate(['tokyo', 'osaka', 'frankfurt'].map((site) => ({ target: `site:${site}`, state: 'disabled' })))
    expect(disabled.body.guard).toMatchObject({ refused: true, names: expect.arrayContaining(['fo.gslb.test. A', 'geo.gslb.test. AAAA']) })
    expect(nameOf(disabled.body, 'fo.gslb.test.')['A'].after).toMatchObject({ mode: 'nodata', world: {} })
  })

  it('changes nothing: the status generation, the admin state and the answers are as before', async () => {
    const status = async () => (await (await fetch(`http://${server.adminAddress}/v1/status`)).json()) as { generation: number; sites: { name: string; admin: unknown }[] }
    const before = await status()
    const answer = (await dig(server.port, ['+subnet=81.2.69.142/31', 'geo.gslb.test.', 'A'])).answer
    expect((await simulate([{ target: 'site:frankfurt', state: 'disabled' }, { target: '192.0.2.10', health: 'down' }])).status).toBe(200)
    const after = await status()
    expect(after.generation).toBe(before.generation)
    expect(after.sites).toEqual(before.sites)
    expect((await dig(server.port, ['+subnet=81.2.69.142/31', 'geo.gslb.test.', 'A'])).answer).toEqual(answer)
  })

  it.each([
    [[{ target: 'site:mars', state: 'drain' }], 404, "changes[0] (site:mars): no site named 'mars'"],
    [[{ target: '10.9.9.9', health: 'down' }], 404, "changes[0] (10.9.9.9): no server (site VIP) with address '10.9.9.9'"],
    [[{ target: 'site:tokyo' }], 400, 'changes[0] (site:tokyo): say what changes: state, weight, clear or health'],
    [[{ target: 'site:tokyo', state: 'drain', health: 'down' }], 400, 'changes[0] (site:tokyo): a change sets health, or admin state and weight, not both'],
    [[{ target: 'site:tokyo', clear: 'state' }], 404, 'changes[0] (site:tokyo): site tokyo has no override to clear'],
  ])('%j → %i', async (changes, status, error) => {
    expect(await simulate(changes)).toEqual({ status, body: { error } })
  })
})
