// GET /v1/explain against the answers the server actually gives: for the same client and ECS, the
// explanation's final answer is what dig gets, with the ECS scope dig sees; each server's
// eligibility says why (an operator's drain, by whom and until when).

import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { startTestServer } from '../support/server.ts'

const TOKEN = 'explain-token'
let server: Awaited<ReturnType<typeof startTestServer>>
const explain = async (query: string): Promise<{ status: number; body: Record<string, any> }> => {
  const reply = await fetch(`http://${server.adminAddress}/v1/explain?${query}`)
  return { status: reply.status, body: (await reply.json()) as Record<string, any> }
}

beforeAll(async () => {
  server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), adminToken: TOKEN })
})
afterAll(async () => {
  await server.close()
})

describe('explain', () => {
  it.each([
    ['a London network (ECS 81.2.69.142/32) → frankfurt', 'geo.gslb.test.', 'A', '81.2.69.142/32'],
    ['a Japanese network (ECS 2001:218::/32), AAAA → tokyo', 'geo.gslb.test.', 'AAAA', '2001:218::/32'],
    ['failover from the first group', 'fo.gslb.test.', 'A', undefined],
  ])('%s: the final answer and scope are what dig gets', async (_what, name, type, ecs) => {
    const { status, body } = await explain(new URLSearchParams({ name, type, client: '127.0.0.1', ...(ecs ? { ecs } : {}) }).toString())
    expect(status).toBe(200)
    const reply = await dig(server.port, [...(ecs ? [`+subnet=${ecs}`] : []), name, type])
    expect(body.answer.addresses).toEqual(reply.answer.map((line) => line.split(' ')[4]))
    expect(body.answer.ttl).toBe(Number(reply.answer[0]?.split(' ')[1]))
    const scope = /CLIENT-SUBNET: [^/]+\/\d+\/(\d+)/.exec(reply.opt)?.[1]
    expect(body.ecsScope).toBe(ecs ? Number(scope) : 0)
    expect(body.located.by).toBe(ecs ? 'EDNS Client Subnet' : 'source address')
  })

  it('names the GeoIP record and network, the distance to each site and the step that chose', async () => {
    const { body } = await explain('name=geo.gslb.test.&client=127.0.0.1&ecs=81.2.69.142/32')
    expect(body.geoip).toMatchObject({ country: 'GB', continent: 'EU', network: expect.stringMatching(/^81\.2\.69\.\d+\/\d+$/) })
    expect(body.choice.step).toBe('nearest: site frankfurt')
    const km = Object.fromEntries((body.choice.sites as { site: string; km: number }[]).map((s) => [s.site, s.km]))
    expect(km['frankfurt']).toBeLessThan(km['tokyo'] as number)
  })

  it('says why a server is out: drained by whom, why and until when', async () => {
    const put = await fetch(`http://${server.adminAddress}/v1/sites/tokyo/state`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ state: 'drain', reason: 'kernel upgrade', for: '1h' }) })
    expect(put.status).toBe(200)
    try {
      const { body } = await explain('name=fo.gslb.test.&client=192.0.2.99')
      const tokyo = (body.servers as { address: string; eligibility: string; why: string }[]).find((s) => s.address === '192.0.2.10')
      expect(tokyo).toMatchObject({ eligibility: 'drain', why: expect.stringMatching(/^drained by admin \(admin\) because "kernel upgrade" until 20\d\d-/) })
      const reply = await dig(server.port, ['fo.gslb.test', 'A'])
      expect(body.answer.addresses).toEqual(reply.answer.map((line) => line.split(' ')[4]))
      expect(body.answer.addresses).not.toContain('192.0.2.10')
    } finally {
      await fetch(`http://${server.adminAddress}/v1/sites/tokyo/state`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    }
  })

  it.each([
    ['name=nothing.gslb.test.&client=127.0.0.1', 404, "'nothing.gslb.test.' is no GSLB name"],
    ['name=geo.gslb.test.&client=not-an-address', 400, "client 'not-an-address' is not an IP address"],
    ['name=geo.gslb.test.&client=127.0.0.1&ecs=81.2.69.0', 400, "ecs '81.2.69.0' is not a network (81.2.69.0/24)"],
  ])('%s → %i', async (query, status, error) => {
    expect(await explain(query)).toEqual({ status, body: { error } })
  })
})
