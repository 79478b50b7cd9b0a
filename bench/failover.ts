// `npm run bench:failover`: with the default check settings (interval 1 s, timeout 800 ms, fall 2,
// rise 2, recheck 150 ms), kill a real HTTP backend at a random moment, measure how long until its
// VIP leaves the DNS answers, restart it, measure how long until it returns. 20 trials, bounded.

import dgram from 'node:dgram'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { start } from '../server/start.ts'
import { startBackend } from '../test/support/backend.ts'
import { buildQuery } from '../test/support/query.ts'

const TRIALS = Number(process.env['TRIALS'] ?? 20)
const VICTIM = '127.0.0.41'
const OTHER = '127.0.0.42'

const dir = mkdtempSync(join(tmpdir(), 'signpost-failover-'))
const victim = await startBackend(VICTIM)
const other = await startBackend(OTHER, victim.port)
writeFileSync(join(dir, 'f.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww 5 A ${VICTIM}\nwww 5 A ${OTHER}\n`)
writeFileSync(join(dir, 'signpost.yaml'), `checks:\n  web: { type: http, port: ${victim.port} }\nsites:\n  v: { vips: [${VICTIM}], check: web }\n  o: { vips: [${OTHER}], check: web }\nnames:\n  www.f.test.: { policy: all }\n`)
const server = await start({ sources: { zonesDir: dir, configFile: join(dir, 'signpost.yaml') }, stateFile: join(dir, 'state.json'), auditLog: join(dir, 'audit.log'), listen: ['127.0.0.1:0'], admin: undefined, settings: { tokens: new Map(), protectReads: false, logLevel: 'info' }, readSettings: () => ({ ok: true, settings: { tokens: new Map(), protectReads: false, logLevel: 'info' } }), setLogLevel: () => undefined, tcp: { idleTimeoutMs: 10_000, maxConnections: 100, maxPerClient: 32, maxBufferedBytes: 8 << 20 }, workers: 0,
    logQueries: false, logger: pino({ level: 'silent' }) })
const port = server.addresses[0]!.port
const socket = dgram.createSocket('udp4')
await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))

/** Does the answer for www.f.test include the victim? One real UDP query. */
function victimAnswered(): Promise<boolean> {
  return new Promise((resolve) => {
    socket.once('message', (reply) => resolve(reply.includes(Buffer.from(VICTIM.split('.').map(Number)))))
    socket.send(buildQuery('www.f.test', 1), port, '127.0.0.1')
  })
}

async function msUntil(wanted: boolean, limitMs: number): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < limitMs) {
    if ((await victimAnswered()) === wanted) return performance.now() - started
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`victim ${wanted ? 'not back' : 'not gone'} within ${limitMs} ms`)
}

const leave: number[] = []
const back: number[] = []
try {
  for (let trial = 0; trial < TRIALS; trial++) {
    await msUntil(true, 10_000)
    // Kill at a random point of the probe cycle.
    await new Promise((r) => setTimeout(r, Math.random() * 1000))
    await victim.kill()
    leave.push(await msUntil(false, 10_000))
    await victim.restart()
    back.push(await msUntil(true, 10_000))
  }
} finally {
  socket.close()
  await server.close()
  await victim.kill()
  await other.kill()
  rmSync(dir, { recursive: true, force: true })
}

const stats = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b)
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2
  return `median ${(median / 1000).toFixed(2)} s, max ${(sorted.at(-1)! / 1000).toFixed(2)} s, min ${(sorted[0]! / 1000).toFixed(2)} s`
}
console.log(`${TRIALS} trials, defaults (interval 1 s, timeout 800 ms, fall 2, rise 2, recheck 150 ms):`)
console.log(`  killed backend → VIP out of the answers: ${stats(leave)}`)
console.log(`  restarted backend → VIP back:            ${stats(back)}`)
