// The checker against real HTTP(S) backends on 127.0.0.x: dead VIPs leave the answers within
// (interval × fall + timeout + 0.5 s) and return after `rise`; 503, slow and TLS backends; LB pairs
// and keepalived events; and the start-up round.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from '../support/backend.ts'
import { dig } from '../support/dig.ts'
import { startTestServer, type LogSink } from '../support/server.ts'

const A = '127.0.0.21'
const B = '127.0.0.22'
const C = '127.0.0.23'
const TLS_SELF_SIGNED = '127.0.0.24'
const TLS_VERIFIED = '127.0.0.25'
const INTERVAL = 500
const TIMEOUT = 300
const FALL = 2
const BOUND_MS = INTERVAL * FALL + TIMEOUT + 500

let server: Awaited<ReturnType<typeof startTestServer>>
const backends = new Map<string, Backend>()
const logs: LogSink = []

async function answers(): Promise<string[]> {
  return (await dig(server.port, ['www.health.test', 'A'])).answer.map((line) => line.split(' ')[4] as string).sort()
}

/** Milliseconds until `check` holds, polling dig every 25 ms; fails after `limit`. */
async function until(check: (addresses: string[]) => boolean, limit: number): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (check(await answers())) return Date.now() - started
    if (Date.now() - started > limit) throw new Error(`not within ${limit} ms; answers: ${(await answers()).join(' ')}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

beforeAll(async () => {
  const first = await startBackend(A)
  backends.set(A, first)
  const port = first.port
  // C stays dead until a test starts it: the start-up round must already leave it out.
  for (const address of [B, '127.0.0.31', '127.0.0.32']) backends.set(address, await startBackend(address, port))
  const dir = mkdtempSync(join(tmpdir(), 'signpost-health-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=vip.health.test'], { stdio: 'ignore' })
  const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  for (const address of [TLS_SELF_SIGNED, TLS_VERIFIED]) backends.set(address, await startBackend(address, port, tls))
  writeFileSync(join(dir, 'health.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${[A, B, C].map((a) => `www 5 A ${a}`).join('\n')}\n${[TLS_SELF_SIGNED, TLS_VERIFIED].map((a) => `tls 5 A ${a}`).join('\n')}\n`)
  const timing = `interval_ms: ${INTERVAL}, timeout_ms: ${TIMEOUT}, fall: ${FALL}, rise: 2, recheck_ms: 100`
  // The test polls answers from loopback many times a second: exempt from rate limiting.
  writeFileSync(join(dir, 'signpost.yaml'), `rrl: { exempt: [127.0.0.0/8] }
checks:
  web: { type: http, port: ${port}, path: /health, ${timing} }
  web-tls-self-signed: { type: https, port: ${port}, tls_verify: false, ${timing} }
  web-tls-verified: { type: https, port: ${port}, ${timing} }
sites:
  a: { vips: [${A}], check: web, lb_pair: { a-lb1: 127.0.0.31, a-lb2: 127.0.0.32 } }
  b: { vips: [${B}], check: web }
  c: { vips: [${C}], check: web }
  d: { vips: [${TLS_SELF_SIGNED}], check: web-tls-self-signed }
  e: { vips: [${TLS_VERIFIED}], check: web-tls-verified }
names:
  www.health.test.: { policy: all, when_down: nodata }
  tls.health.test.: { policy: all, when_down: nodata }
`)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), logs })
})

afterAll(async () => {
  await server?.close()
  for (const backend of backends.values()) await backend.kill()
})

describe('health checks', () => {
  it('leaves out a backend that is dead at start-up from the very first answer', async () => {
    expect(await answers()).toEqual([A, B])
  })

  it('brings a backend in after `rise` successes once it comes up', async () => {
    backends.set(C, await startBackend(C, backends.get(A)!.port))
    const ms = await until((a) => a.includes(C), 3 * INTERVAL)
    expect(ms).toBeGreaterThan(100) // rise 2: one success is not enough
  })

  it(`drops a killed backend within interval × fall + timeout + 0.5 s (${BOUND_MS} ms), and takes it back after rise`, async () => {
    await until((a) => a.includes(A), 3000)
    await backends.get(A)!.kill()
    const gone = await until((a) => !a.includes(A), BOUND_MS)
    await backends.get(A)!.restart()
    const back = await until((a) => a.includes(A), 3 * INTERVAL + 500)
    logs.push({ msg: 'measured', gone, back })
    expect(logs.some((l) => l['msg'] === 'health transition' && l['address'] === A && l['to'] === 'down' && String(l['reason']).includes('ECONNREFUSED'))).toBe(true)
  })

  it('marks a backend answering HTTP 503 down, and up again when it recovers', async () => {
    backends.get(B)!.mode = '503'
    await until((a) => !a.includes(B), BOUND_MS)
    expect(logs.some((l) => l['msg'] === 'health transition' && l['address'] === B && l['reason'] === 'HTTP 503')).toBe(true)
    backends.get(B)!.mode = 'ok'
    await until((a) => a.includes(B), 3 * INTERVAL + 500)
  })

  it('marks a backend slower than the timeout down', async () => {
    backends.get(B)!.mode = 'slow'
    await until((a) => !a.includes(B), BOUND_MS + TIMEOUT)
    expect(logs.some((l) => l['msg'] === 'health transition' && l['address'] === B && l['reason'] === `timeout after ${TIMEOUT} ms`)).toBe(true)
    backends.get(B)!.mode = 'ok'
    await until((a) => a.includes(B), 3 * INTERVAL + 1000)
  })

  it('checks HTTPS: a self-signed VIP is up with tls_verify off, down with it on', async () => {
    const tls = (await dig(server.port, ['tls.health.test', 'A'])).answer.map((l) => l.split(' ')[4])
    expect(tls).toEqual([TLS_SELF_SIGNED])
  })
})

describe('LB pairs', () => {
  const pair = () => server.control.status().sites.find((s) => s.name === 'a')!.lbPair

  it('shows the pair degraded when one LB node fails its probe, and keeps answering the VIP', async () => {
    await until((a) => a.includes(A), 3000)
    await backends.get('127.0.0.32')!.kill()
    for (let i = 0; i < 100 && !pair().degraded; i++) await new Promise((r) => setTimeout(r, 25))
    expect(pair()).toMatchObject({ degraded: true, down: false })
    expect(pair().nodes.map((n) => [n.name, n.probe])).toEqual([['a-lb1', 'up'], ['a-lb2', 'down']])
    expect(await answers()).toContain(A)
    await backends.get('127.0.0.32')!.restart()
  })

  it('takes the VIP out at once when every node reports FAULT, and back on MASTER', async () => {
    expect(await server.control.lbEvent({ site: 'a', node: 'a-lb1', state: 'FAULT' })).toEqual({ ok: true, shared: false })
    expect(await answers()).toContain(A)
    expect(await server.control.lbEvent({ site: 'a', node: 'a-lb2', state: 'STOP' })).toEqual({ ok: true, shared: false })
    // No probe interval has to pass: the next query already sees it.
    expect(await answers()).not.toContain(A)
    expect(await server.control.lbEvent({ site: 'a', node: 'a-lb2', state: 'MASTER' })).toEqual({ ok: true, shared: false })
    expect(await answers()).toContain(A)
  })

  it('rejects events for unknown sites and nodes', async () => {
    expect(await server.control.lbEvent({ site: 'nowhere', node: 'x', state: 'FAULT' })).toEqual({ ok: false, message: "no site named 'nowhere'" })
    expect(await server.control.lbEvent({ site: 'a', node: 'a-lb9', state: 'FAULT' })).toEqual({ ok: false, message: "site a has no LB node named 'a-lb9'" })
  })
})
