// Two DNS worker threads on one port (reusePort): every worker answers, and every change the main
// thread makes (health verdict, admin state, reload) reaches all of them. Queries come from a new
// UDP socket each, so the kernel's reusePort hash spreads them over the workers.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from '../support/backend.ts'
import { dig } from '../support/dig.ts'
import { askA } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'

const A = '127.0.0.61'
const B = '127.0.0.62'
const TOKEN = 'workers-test-token'
const QUERIES = 64

let server: Awaited<ReturnType<typeof startTestServer>>
let backends: Backend[] = []
let dir: string

function zone(extra = ''): string {
  return `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww 5 A ${A}\nwww 5 A ${B}\n${extra}`
}

/** One query from a fresh socket: the answer's addresses (sorted), or the rcode name when not NOERROR. */
async function ask(name: string): Promise<string> {
  const { rcode, addresses } = await askA(server.port, name)
  return rcode !== 0 ? `rcode ${rcode}` : addresses.join(' ')
}

/** The distinct replies to QUERIES queries, each from its own socket. */
async function replies(name: string): Promise<Set<string>> {
  return new Set(await Promise.all(Array.from({ length: QUERIES }, () => ask(name))))
}

async function threadCounts(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${server.adminAddress}/metrics`)).text()
  return new Map([...text.matchAll(/^signpost_dns_thread_queries_total\{thread="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
}

async function until(check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

beforeAll(async () => {
  const first = await startBackend(A)
  backends = [first, await startBackend(B, first.port)]
  dir = mkdtempSync(join(tmpdir(), 'signpost-workers-'))
  writeFileSync(join(dir, 'workers.test.zone'), zone())
  // Every query comes from loopback as fast as it can: rate limiting is tested in abuse.test.ts.
  writeFileSync(join(dir, 'signpost.yaml'), `rrl: { exempt: [127.0.0.0/8] }
checks:
  web: { type: http, port: ${first.port}, path: /health, interval_ms: 300, timeout_ms: 200, fall: 2, rise: 2, recheck_ms: 50 }
sites:
  a: { vips: [${A}], check: web }
  b: { vips: [${B}], check: web }
names:
  www.workers.test.: { policy: all, max_answers: 2 }
`)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), workers: 2, adminToken: TOKEN })
})

afterAll(async () => {
  await server?.close()
  for (const backend of backends) await backend.kill()
})

describe('two DNS worker threads', () => {
  it('both workers answer on the one port, over UDP and TCP', async () => {
    expect(await replies('www.workers.test')).toEqual(new Set([`${A} ${B}`]))
    expect((await dig(server.port, ['+tcp', 'www.workers.test', 'A'])).answer).toHaveLength(2)
    const counts = await threadCounts()
    expect(counts.get('0')).toBeGreaterThan(0)
    expect(counts.get('1')).toBeGreaterThan(0)
    expect((counts.get('0') ?? 0) + (counts.get('1') ?? 0)).toBe(QUERIES + 1)
  })

  it('metrics per thread: each worker\'s event-loop use and heap, and the response times the workers sampled', async () => {
    await Promise.all(Array.from({ length: 4 }, () => replies('www.workers.test')))
    const text = await (await fetch(`http://${server.adminAddress}/metrics`)).text()
    for (const thread of ['main', '0', '1']) {
      expect(text).toMatch(new RegExp(`^signpost_thread_event_loop_utilization\\{thread="${thread}"\\} [\\d.e-]+$`, 'm'))
      expect(text).toMatch(new RegExp(`^signpost_thread_heap_used_bytes\\{thread="${thread}"\\} [1-9]\\d+$`, 'm'))
    }
    // 256 queries over two workers: each samples 1 in 64.
    expect(Number(/^signpost_dns_response_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(2)
  })

  it('a health verdict reaches every worker', async () => {
    await backends[1]!.kill()
    await until(async () => (await ask('www.workers.test')) === A, 3000)
    expect(await replies('www.workers.test')).toEqual(new Set([A]))
    await backends[1]!.restart()
    await until(async () => (await ask('www.workers.test')) === `${A} ${B}`, 3000)
    expect(await replies('www.workers.test')).toEqual(new Set([`${A} ${B}`]))
  })

  it('an admin change reaches every worker before its 200 reply', async () => {
    const put = (state: string) =>
      fetch(`http://${server.adminAddress}/v1/sites/a/state`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ state, reason: 'workers test' }) })
    expect((await put('disabled')).status).toBe(200)
    expect(await replies('www.workers.test')).toEqual(new Set([B]))
    expect((await put('enabled')).status).toBe(200)
    expect(await replies('www.workers.test')).toEqual(new Set([`${A} ${B}`]))
  })

  it('a reload reaches every worker before its 200 reply', async () => {
    expect(await replies('new.workers.test')).toEqual(new Set(['rcode 3']))
    writeFileSync(join(dir, 'workers.test.zone'), zone('new 60 A 192.0.2.77\n'))
    const reload = await fetch(`http://${server.adminAddress}/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(reload.status).toBe(200)
    expect(await replies('new.workers.test')).toEqual(new Set(['192.0.2.77']))
  })

  it('a worker thread that dies is replaced, and every query is answered meanwhile', async () => {
    const [first] = server.dnsWorkers!.threads()
    const oldId = first!.threadId
    await first!.terminate()
    // Meanwhile the kernel sends the dead socket's share to the other worker: nothing is lost.
    expect(await replies('www.workers.test')).toEqual(new Set([`${A} ${B}`]))
    await until(async () => server.dnsWorkers!.threads()[0]!.threadId !== oldId, 5000)
    // The new worker 0 binds the shared port and answers its share again.
    const before = (await threadCounts()).get('0') ?? 0
    await until(async () => {
      expect(await replies('www.workers.test')).toEqual(new Set([`${A} ${B}`]))
      return ((await threadCounts()).get('0') ?? 0) > before
    }, 5000)
  })
})
