// Clients that hold what they can of a server run under a low open-files limit (`ulimit -n`, real
// processes): slow admin clients are capped and timed out, and a probe that cannot be made for want
// of a descriptor is the checker's fault, never a verdict, so no VIP leaves the answers.

import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from '../support/backend.ts'
import { dig } from '../support/dig.ts'
import { spawnSignpost } from '../support/process.ts'

const VIPS = ['127.0.0.41', '127.0.0.42', '127.0.0.43']
const backends: Backend[] = []
let config: string

beforeAll(async () => {
  const first = await startBackend(VIPS[0] as string)
  backends.push(first)
  for (const vip of VIPS.slice(1)) backends.push(await startBackend(vip, first.port))
  const dir = mkdtempSync(join(tmpdir(), 'signpost-exhaustion-'))
  writeFileSync(join(dir, 'ex.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${VIPS.map((v) => `www 5 A ${v}`).join('\n')}\n`)
  config = join(dir, 'signpost.yaml')
  writeFileSync(config, `checks:
  web: { type: http, port: ${first.port}, path: /health, interval_ms: 200, timeout_ms: 150, fall: 2, rise: 2, recheck_ms: 50 }
sites:
${VIPS.map((v, i) => `  s${i}: { vips: [${v}], check: web }`).join('\n')}
names:
  www.ex.test.: { policy: all, max_answers: 3 }
admin: { state_file: ${join(dir, 'state.json')}, audit_log: ${join(dir, 'audit.log')} }
`)
})
afterAll(async () => {
  for (const backend of backends) await backend.kill()
})

/** Polls the answers every 100 ms for `ms`; how many polls carried every VIP, of how many. */
async function watchAnswers(port: number, ms: number): Promise<{ whole: number; polls: number }> {
  let whole = 0
  let polls = 0
  for (const until = Date.now() + ms; Date.now() < until; polls++) {
    const answer = (await dig(port, ['www.ex.test', 'A'])).answer.map((l) => l.split(' ')[4]).sort()
    if (answer.join() === VIPS.join()) whole++
    await new Promise((r) => setTimeout(r, 100))
  }
  return { whole, polls }
}

/** Opens a connection and sends `head`, then one byte a second; resolves when connected. Closed by the server: `closed` resolves. */
function slowClient(port: number, head: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.on('error', () => undefined)
    socket.once('connect', () => {
      socket.write(head)
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('x')), 1000)
      socket.once('close', () => clearInterval(drip))
      resolve({ socket, closed })
    })
    socket.once('error', () => resolve({ socket, closed }))
  })
}

describe('under ulimit -n 256', () => {
  it('400 slow admin clients are capped and timed out, and every VIP stays in the answers', async () => {
    const server = await spawnSignpost(['--config', config, '--workers', '0'], [], 256)
    try {
      const body = 'PUT /v1/sites/s0/state HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n'
      const headers = 'PUT /v1/sites/s0/state HTTP/1.1\r\nHost: x\r\n'
      const clients = await Promise.all(Array.from({ length: 400 }, (_, i) => slowClient(server.adminPort, i % 2 === 0 ? body : headers)))
      const opened = Date.now()
      const seen = await watchAnswers(server.port, 4000)
      console.log(`VIPs all answered in ${seen.whole} of ${seen.polls} polls with 400 slow admin clients under ulimit -n 256`)
      expect(seen.whole).toBe(seen.polls)
      // Every slow client is let go: past the connection cap at once, the rest when their 5 s (headers) or 10 s (request) run out.
      await Promise.all(clients.map((c) => c.closed))
      expect(Date.now() - opened).toBeLessThan(13_000)
      expect(server.logs.some((l) => l['msg'] === 'health transition' && l['to'] === 'down')).toBe(false)
    } finally {
      await server.stop()
    }
  })
})

describe('under ulimit -n 64', () => {
  it('probes that fail for want of descriptors are faults, not verdicts: the VIPs stay answered', async () => {
    const server = await spawnSignpost(['--config', config, '--workers', '0'], [], 64)
    const held: net.Socket[] = []
    try {
      // Idle DNS TCP connections from many source addresses take every descriptor left, and keep
      // coming (at most 500, for 5 s): libuv accepts and closes what it cannot keep, through one
      // spare descriptor that a probe would otherwise slip into.
      const fault = () => server.logs.some((l) => l['msg'] === 'probes could not be made on this machine; targets keep their verdicts')
      for (let i = 0, until = Date.now() + 5000; i < 500 && Date.now() < until && !fault(); i++) {
        const socket = net.connect({ host: '127.0.0.1', port: server.port, localAddress: `127.0.5.${(i % 200) + 1}` })
        socket.on('error', () => undefined)
        held.push(socket)
        await new Promise((r) => setTimeout(r, 10))
      }
      expect(server.logs.find((l) => l['msg'] === 'probes could not be made on this machine; targets keep their verdicts')).toMatchObject({ detail: expect.stringMatching(/EMFILE/) })
      expect(server.logs.some((l) => l['msg'] === 'health transition' && l['to'] === 'down')).toBe(false)
      for (const socket of held) socket.destroy()
      const seen = await watchAnswers(server.port, 1000)
      expect(seen.whole).toBe(seen.polls)
    } finally {
      for (const socket of held) socket.destroy()
      await server.stop()
    }
  })
})
