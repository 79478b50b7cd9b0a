// GSLB answers over real sockets: nearest by EDNS Client Subnet with the real GeoIP test database,
// weighted spread over 10,000 real queries, failover, and reloads that never half-apply.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import dgram from 'node:dgram'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { dig } from '../support/dig.ts'
import { buildQuery } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'

const TOKYO = '192.0.2.10'
const OSAKA = '198.51.100.10'
const FRANKFURT = '203.0.113.10'

/** A copy of the GSLB fixture folder, with its GeoIP database beside it, that a test may edit. */
function fixtureCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-gslb-'))
  cpSync('test/fixtures/gslb', dir, { recursive: true })
  cpSync('zones/geoip/GeoLite2-City-Test.mmdb', join(dir, 'geo.mmdb'))
  const config = join(dir, 'signpost.yaml')
  writeFileSync(config, readFileSync(config, 'utf8').replace('../../../zones/geoip/GeoLite2-City-Test.mmdb', 'geo.mmdb'))
  return dir
}

describe('GSLB answers', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  const q = (...args: string[]) => dig(server.port, args)

  beforeAll(async () => {
    server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml') })
  })
  afterAll(async () => {
    await server.close()
  })

  it('sends a London client (ECS 81.2.69.142/32) to Frankfurt, echoing the scope it used', async () => {
    const r = await q('+subnet=81.2.69.142/32', 'geo.gslb.test', 'A')
    expect(r.flags).toContain('aa')
    expect(r.answer).toEqual([`geo.gslb.test. 20 IN A ${FRANKFURT}`])
    expect(r.opt).toMatch(/CLIENT-SUBNET: 81\.2\.69\.142\/32\/31/)
  })

  it('sends a Japanese client (ECS 2001:218::/32) to Tokyo, for A and AAAA alike', async () => {
    const a = await q('+subnet=2001:218::/32', 'geo.gslb.test', 'A')
    expect(a.answer).toEqual([`geo.gslb.test. 20 IN A ${TOKYO}`])
    expect(a.opt).toMatch(/CLIENT-SUBNET: 2001:218::\/32\/32/)
    const aaaa = await q('+subnet=2001:218::/32', 'geo.gslb.test', 'AAAA')
    expect(aaaa.answer).toEqual(['geo.gslb.test. 20 IN AAAA 2001:db8:1::10'])
  })

  it('answers a client it cannot place (127.0.0.1, no ECS) from every site, weighted', async () => {
    const r = await q('geo.gslb.test', 'A')
    expect(r.answer.map((l) => l.split(' ')[4]).sort()).toEqual([TOKYO, OSAKA, FRANKFURT].sort())
    expect(r.opt).not.toMatch(/CLIENT-SUBNET/)
  })

  it('ignores an ECS /0 and echoes scope 0 (RFC 7871 §7.1.2)', async () => {
    const r = await q('+subnet=0.0.0.0/0', 'geo.gslb.test', 'A')
    expect(r.answer).toHaveLength(3)
    expect(r.opt).toMatch(/CLIENT-SUBNET: 0\.0\.0\.0\/0\/0/)
  })

  it('echoes scope 0 for a policy that does not use location', async () => {
    const r = await q('+subnet=81.2.69.142/32', 'www.gslb.test', 'A')
    expect(r.opt).toMatch(/CLIENT-SUBNET: 81\.2\.69\.142\/32\/0/)
  })

  it('answers failover names from the first group', async () => {
    expect((await q('fo.gslb.test', 'A')).answer).toEqual([`fo.gslb.test. 30 IN A ${TOKYO}`])
  })

  it('spreads 10,000 real queries by weight (5:3:2) within ±5%', async () => {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
    const counts = new Map<string, number>()
    let received = 0
    socket.on('message', (reply) => {
      received++
      const address = [...reply.subarray(reply.length - 4)].join('.')
      counts.set(address, (counts.get(address) ?? 0) + 1)
    })
    for (let id = 0; id < 10_000; id += 100) {
      const batch = received + 100
      for (let k = 0; k < 100; k++) socket.send(buildQuery('www.gslb.test', RRType.A, { id: id + k }), server.port, '127.0.0.1')
      for (let wait = 0; wait < 200 && received < batch; wait++) await new Promise((r) => setTimeout(r, 5))
    }
    socket.close()
    expect(received).toBe(10_000)
    const share = (a: string) => (counts.get(a) ?? 0) / received
    expect(Math.abs(share(TOKYO) - 0.5)).toBeLessThan(0.05 * 0.5)
    expect(Math.abs(share(OSAKA) - 0.3)).toBeLessThan(0.05 * 0.3)
    expect(Math.abs(share(FRANKFURT) - 0.2)).toBeLessThan(0.05 * 0.2)
  })
})

describe('reloads', () => {
  it('rejects a config with an error whole, and keeps serving the last good snapshot', async () => {
    const dir = fixtureCopy()
    const server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml') })
    try {
      const config = join(dir, 'signpost.yaml')
      const good = readFileSync(config, 'utf8')
      // One good change (failover order) and one bad (an unknown site): neither may apply.
      writeFileSync(config, good.replace('order: [tokyo, [osaka, frankfurt]]', 'order: [osaka, tokyo]').replace('policy: weighted', 'policy: weighted\n    weights: { nowhere: 1 }'))
      const result = await server.control.reload()
      expect(result).toMatchObject({ ok: false })
      expect(result.ok ? [] : result.problems.map((p) => `${p.line} ${p.message}`)).toEqual([`21 names.www.gslb.test..weights.nowhere: no site named 'nowhere'`])
      expect((await dig(server.port, ['fo.gslb.test'])).answer).toEqual([`fo.gslb.test. 30 IN A ${TOKYO}`])

      writeFileSync(config, good.replace('order: [tokyo, [osaka, frankfurt]]', 'order: [osaka, tokyo]').replace(/  www\.gslb\.test\.:\n    policy: weighted\n/, ''))
      expect(await server.control.reload()).toMatchObject({ ok: true, changes: { zonesAdded: [], zonesRemoved: [], namesAdded: [], namesRemoved: ['www.gslb.test.'] } })
      expect((await dig(server.port, ['fo.gslb.test'])).answer).toEqual([`fo.gslb.test. 30 IN A ${OSAKA}`])
    } finally {
      await server.close()
    }
  })

  it('re-reads the GeoIP database on reload, without a restart', async () => {
    const dir = fixtureCopy()
    cpSync('test/fixtures/geoip/GeoLite2-ASN-Test.mmdb', join(dir, 'geo.mmdb'))
    const server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml') })
    try {
      // The ASN database has no locations: the London client can't be placed.
      expect((await dig(server.port, ['+subnet=81.2.69.142/32', 'geo.gslb.test'])).answer).toHaveLength(3)
      cpSync('zones/geoip/GeoLite2-City-Test.mmdb', join(dir, 'geo.mmdb'))
      expect(await server.control.reload()).toMatchObject({ ok: true })
      expect((await dig(server.port, ['+subnet=81.2.69.142/32', 'geo.gslb.test'])).answer).toEqual([`geo.gslb.test. 20 IN A ${FRANKFURT}`])
    } finally {
      await server.close()
    }
  })
})
