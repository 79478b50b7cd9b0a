// Load-aware answers on real parts: a site whose load URL says it is busy, and a site behind a
// real HAProxy (Debian's) whose frontend fills up with slow requests from a bounded client, both
// read over HTTP by the server as it runs (with a DNS worker thread, so the LoadView travels to
// it), the answers checked with UDP queries.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { askA } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const BUSY = '192.0.2.10'
const HAPROXIED = '198.51.100.10'
const SPARE = '203.0.113.10'
/** A VIP that is really probed: the lagging backend listens on it. */
const LAGGY = '127.0.0.1'
const SLOTS = 10

let server: Awaited<ReturnType<typeof startTestServer>>
let loadUrl: http.Server
let loadValue: unknown = { load: 0.2 }
let slow: http.Server
let lagging: http.Server
let lagMs = 0
let haproxy: ChildProcess
let statsPort: number
let frontendPort: number

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as net.AddressInfo
    s.close(() => resolve(port))
  })
})
const answers = async (name: string): Promise<string[]> => (await askA(server.port, name)).addresses
const status = async () => (await (await fetch(`http://${server.adminAddress}/v1/status`)).json()) as { sites: { name: string; load: { utilisation: number | null; haproxy: { sessions: number; limit: number } | null; shedding: string[] } | null }[]; names: { name: string; v4: { shed: string[] } }[] }

beforeAll(async () => {
  loadUrl = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(loadValue)))
  await new Promise<void>((resolve) => loadUrl.listen(0, '127.0.0.1', resolve))
  // The backend behind HAProxy answers after 20 s: a request holds its frontend session until the client goes.
  slow = http.createServer((_req, res) => void setTimeout(() => res.writeHead(200).end('late'), 20_000).unref())
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
  lagging = http.createServer((_req, res) => void setTimeout(() => res.writeHead(200).end('ok'), lagMs))
  await new Promise<void>((resolve) => lagging.listen(0, LAGGY, resolve))
  const dir = mkdtempSync(join(tmpdir(), 'signpost-load-'))
  ;[statsPort, frontendPort] = [await freePort(), await freePort()]
  writeFileSync(join(dir, 'haproxy.cfg'), `global
  maxconn 200
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A client that goes frees its session at once (else it waits for the slow backend).
  option abortonclose
frontend web
  bind 127.0.0.1:${frontendPort}
  maxconn ${SLOTS}
  default_backend app
backend app
  server slow 127.0.0.1:${(slow.address() as net.AddressInfo).port}
frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`)
  execFileSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')])
  haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' })
  await until(async () => (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).ok, 10_000, 'haproxy stats')
  writeFileSync(join(dir, 'l.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww 5 A ${BUSY}\nwww 5 A ${SPARE}\nweb 5 A ${HAPROXIED}\nweb 5 A ${SPARE}\nlag 5 A ${LAGGY}\nlag 5 A ${SPARE}\n`)
  // The test polls answers from loopback many times a second: exempt from rate limiting.
  writeFileSync(join(dir, 'signpost.yaml'), `rrl: { exempt: [127.0.0.0/8] }
sites:
  busy:
    vips: [${BUSY}]
    load: { type: http_json, url: "http://127.0.0.1:${(loadUrl.address() as net.AddressInfo).port}/load", interval_ms: 200 }
  haproxied:
    vips: [${HAPROXIED}]
    load: { type: haproxy, stats_url: "http://127.0.0.1:${statsPort}/stats;csv", proxy: web, interval_ms: 200 }
  laggy:
    vips: [${LAGGY}]
    check: web
    load: { type: latency, full_ms: 100, interval_ms: 200 }
  spare: { vips: [${SPARE}] }
checks:
  web: { type: http, port: ${(lagging.address() as net.AddressInfo).port}, interval_ms: 100, timeout_ms: 1000 }
names:
  www.l.test.: { policy: all, load: { mode: shed, shed_above: 0.9, return_below: 0.75 } }
  web.l.test.: { policy: all, load: { mode: shed, shed_above: 0.7, return_below: 0.3 } }
  lag.l.test.: { policy: all, load: { mode: shed, shed_above: 0.9, return_below: 0.5 } }
`)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), workers: 1, adminToken: 't' })
}, 30_000)

afterAll(async () => {
  await server?.close()
  haproxy?.kill()
  await Promise.all([loadUrl, slow, lagging].map((s) => new Promise((resolve) => s?.close(resolve))))
})

describe('load signals', () => {
  it('http_json: above shed_above the site leaves the answers; between the watermarks it stays out; below return_below it is back', async () => {
    await until(async () => (await status()).sites.find((s) => s.name === 'busy')?.load?.utilisation === 0.2, 5000, 'first reading')
    expect(await answers('www.l.test')).toEqual([BUSY, SPARE])
    loadValue = { load: 0.95 }
    await until(async () => JSON.stringify(await answers('www.l.test')) === JSON.stringify([SPARE]), 5000, 'busy sheds')
    expect((await status()).names.find((n) => n.name === 'www.l.test.')?.v4.shed).toEqual(['busy'])
    const metrics = await (await fetch(`http://${server.adminAddress}/metrics`)).text()
    expect(metrics).toMatch(/^signpost_site_load_utilisation\{site="busy"\} 0\.95$/m)
    expect(metrics).toMatch(/^signpost_gslb_shedding\{name="www\.l\.test\.",site="busy"\} 1$/m)
    loadValue = { load: 0.8 }
    await until(async () => (await status()).sites.find((s) => s.name === 'busy')?.load?.utilisation === 0.8, 5000, 'reading 0.8')
    expect(await answers('www.l.test')).toEqual([SPARE])
    loadValue = { load: 0.5 }
    await until(async () => JSON.stringify(await answers('www.l.test')) === JSON.stringify([BUSY, SPARE]), 5000, 'busy back')
  })

  it('http_json: a reply that is no utilisation is a problem in status and changes nothing', async () => {
    loadValue = { load: 7 }
    await until(async () => (await status()).sites.find((s) => s.name === 'busy')?.load !== null && ((await status()).sites.find((s) => s.name === 'busy')!.load as unknown as { problem: string }).problem === "'load' is 7, not a utilisation from 0 to 1", 5000, 'problem shown')
    expect(await answers('www.l.test')).toEqual([BUSY, SPARE])
    loadValue = { load: 0.2 }
  })

  it('haproxy: slow requests fill the frontend\'s sessions, the site sheds; when the clients go, it is back', async () => {
    const haproxied = async () => (await status()).sites.find((s) => s.name === 'haproxied')!.load!
    await until(async () => (await haproxied()).utilisation === 0, 5000, 'idle reading')
    expect((await haproxied()).haproxy).toMatchObject({ sessions: 0, limit: SLOTS })
    expect(await answers('web.l.test')).toEqual([HAPROXIED, SPARE])
    // A bounded load: SLOTS requests that each hold a session (the backend answers after 20 s).
    const clients: http.ClientRequest[] = []
    for (let i = 0; i < SLOTS; i++) {
      const request = http.get({ host: '127.0.0.1', port: frontendPort, path: `/slow/${i}`, agent: false })
      request.on('error', () => undefined)
      clients.push(request)
    }
    try {
      await until(async () => JSON.stringify(await answers('web.l.test')) === JSON.stringify([SPARE]), 5000, 'haproxied sheds')
      expect((await haproxied()).utilisation).toBeGreaterThan(0.7)
      expect((await haproxied()).shedding).toEqual(['web.l.test.'])
    } finally {
      for (const client of clients) client.destroy()
    }
    await until(async () => JSON.stringify(await answers('web.l.test')) === JSON.stringify([HAPROXIED, SPARE]), 5000, 'haproxied back')
  })

  it('latency: a site whose probes slow past full_ms sheds; when they are quick again it is back; status shows the smoothed round trip', async () => {
    const laggyServer = async () => ((await (await fetch(`http://${server.adminAddress}/v1/status`)).json()) as { servers: { address: string; latencyMs: number | null }[] }).servers.find((x) => x.address === LAGGY)!
    await until(async () => ((await laggyServer()).latencyMs ?? Infinity) < 50, 5000, 'quick probes')
    expect(await answers('lag.l.test')).toEqual([LAGGY, SPARE])
    lagMs = 200
    await until(async () => JSON.stringify(await answers('lag.l.test')) === JSON.stringify([SPARE]), 5000, 'laggy sheds')
    expect((await laggyServer()).latencyMs).toBeGreaterThan(90)
    lagMs = 0
    await until(async () => JSON.stringify(await answers('lag.l.test')) === JSON.stringify([LAGGY, SPARE]), 5000, 'laggy back')
  })
})
