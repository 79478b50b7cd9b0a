// Section 6 of `npm run bench`: a restart under load. dnsperf asks at 20,000 queries a second for
// 12 s; 4 s in, the server is restarted: by `signpost serve --replace` (BENCH_ROUNDS times), and
// once by stop-then-start for comparison. Each line gives queries sent, answered and lost (dnsperf
// counts a query lost when no reply came within 2 s). Both servers run one DNS worker; nothing is
// pinned, as on a real host during an upgrade.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { ensureDebianPackages } from '../test/support/debian.ts'
import { ROUNDS, stop } from './measure.ts'

const run = promisify(execFile)
const QPS = 20_000
const SECONDS = 12
const RESTART_AFTER_MS = 4000
const work = mkdtempSync(join(tmpdir(), 'signpost-restart-'))
const children: ChildProcess[] = []

const zone = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 60
@ NS ns1
ns1 A 192.0.2.1
www 30 A 192.0.2.10
www 30 A 198.51.100.10
static A 192.0.2.20
`

/** A server on `listen`/`admin` (port 0: any), started from `dir`; resolves with its ports once it says it started. */
async function serve(dir: string, listen: string, admin: string, replace: boolean): Promise<{ child: ChildProcess; port: number; admin: string }> {
  const child = spawn(process.execPath, [resolve('server/main.ts'), 'serve', '--zones', dir, '--listen', listen, '--admin', admin, '--workers', '1', ...(replace ? ['--replace'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], cwd: dir, env: { ...process.env, SIGNPOST_ADMIN_TOKEN: 'bench' } })
  children.push(child)
  return new Promise((done, fail) => {
    let seen = ''
    const timer = setTimeout(() => fail(new Error(`not started: ${seen.slice(-1000)}`)), 30_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const started = /"dns":\["udp 127\.0\.0\.1:(\d+)".*"admin":"([^"]+)"/.exec(seen)
      if (started) {
        clearTimeout(timer)
        done({ child, port: Number(started[1]), admin: started[2] as string })
      }
    })
  })
}

const exited = (child: ChildProcess): Promise<unknown> => (child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)))

async function restartUnderLoad(name: string, queries: string, how: 'replace' | 'stop-start'): Promise<string> {
  const dir = join(work, `${how}-${Date.now()}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'bench.test.zone'), zone)
  writeFileSync(join(dir, 'signpost.yaml'), `zones: .\nrrl: { responses_per_second: 1000000 }\nadmin: { state_file: state.json, audit_log: audit.log }\n`)
  const first = await serve(dir, '127.0.0.1:0', '127.0.0.1:0', false)
  const load = run('dnsperf', ['-s', '127.0.0.1', '-p', String(first.port), '-d', queries, '-l', String(SECONDS), '-Q', String(QPS), '-c', '4', '-q', '20000', '-t', '2'], { maxBuffer: 1 << 20 })
  await sleep(RESTART_AFTER_MS)
  const began = Date.now()
  let second
  if (how === 'replace') {
    second = await serve(dir, `127.0.0.1:${first.port}`, first.admin, true)
    await exited(first.child)
  } else {
    first.child.kill('SIGTERM')
    await exited(first.child)
    second = await serve(dir, `127.0.0.1:${first.port}`, first.admin, false)
  }
  const tookMs = Date.now() - began
  const { stdout } = await load
  await stop(second.child)
  const figure = (label: string): number => Number(new RegExp(`Queries ${label}:\\s+(\\d+)`).exec(stdout)?.[1])
  return `${name.padEnd(28)} sent ${String(figure('sent')).padStart(7)}  answered ${String(figure('completed')).padStart(7)}  lost ${String(figure('lost')).padStart(5)}  (restart took ${tookMs} ms)`
}

ensureDebianPackages({ dnsperf: 'dnsperf' })
const queries = join(work, 'queries')
writeFileSync(queries, Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 'static.bench.test A' : 'www.bench.test A')).join('\n') + '\n')
try {
  console.log(`\n6. A restart under load: dnsperf at ${QPS.toLocaleString('en')} queries/s for ${SECONDS} s, the restart ${RESTART_AFTER_MS / 1000} s in (one DNS worker each)`)
  for (let round = 1; round <= ROUNDS; round++) console.log(await restartUnderLoad(`serve --replace, round ${round}`, queries, 'replace'))
  console.log(await restartUnderLoad('stop, then start', queries, 'stop-start'))
} finally {
  for (const child of children) await stop(child)
  rmSync(work, { recursive: true, force: true })
}
