// `npm run bench`: dnsperf against Signpost on loopback. Query mix: 60% a GSLB name over three
// VIPs, 30% static names, 10% NXDOMAIN. Every run is bounded in time (BENCH_SECONDS, default 10).
//  1. Per-query cost: one DNS worker, the whole server on CPU 0, dnsperf on CPU 1, next to a raw
//     Node dgram loop (the floor), in turns and side by side; p50/p99 latency at half of the
//     static-name maximum.
//  2. The checker probing 1,000 targets every second: the worker thread alone on CPU 0 (the main
//     thread, which probes, on CPU 1 beside dnsperf), with and without the probes.
//  3. Scaling: one worker against two at a fixed rate, server and dnsperf sharing both cores.
//  4. A 100,000-record zone: load time and RSS.
//  5. DNSSEC: the mix with DO=1 on every query against the same without (a signed zone, caches
//     warm), in turns and side by side; one signature's cost per algorithm; the 100,000-record
//     zone signed: load time and RSS.
//  6. A restart under 20,000 queries/s: `serve --replace` against stop-then-start, queries sent,
//     answered and lost (bench/restart.ts).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensureDebianPackages } from '../test/support/debian.ts'
import { cpuTicks, latencyAt, median, ROUNDS, rssMb, saturate, SECONDS, sideBySide, stop, threadIds, ticksToSeconds, waitForLine, summarizeRounds, type Latency, type RoundsSummary } from './measure.ts'

const node = process.execPath
const work = mkdtempSync(join(tmpdir(), 'signpost-bench-'))
const children: ChildProcess[] = []

function benchZone(): string {
  const lines = ['$ORIGIN bench.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1']
  for (const name of ['www', 'geo']) lines.push(`${name} 30 A 192.0.2.10`, `${name} 30 A 198.51.100.10`, `${name} 30 A 203.0.113.10`)
  for (let i = 0; i < 100; i++) lines.push(`static${i} A 10.0.${i}.1`)
  return lines.join('\n') + '\n'
}

/**
 * dnsperf asks from 127.0.0.1 far faster than any client should: the rate limiter accounts every
 * response at a rate none reaches, so the runs measure its cost, not its effect. `limiter`: false
 * for a baseline checkout from before it (its config has no `rrl`).
 */
function benchConfig(probedSites = '', limiter = true): string {
  return `geoip: { database: ${resolve('zones/geoip/GeoLite2-City-Test.mmdb')} }
${limiter ? 'rrl: { responses_per_second: 1000000 }\n' : ''}checks:
  closed: { type: tcp, port: 9, interval_ms: 1000 }
sites:
  tokyo: { vips: [192.0.2.10], weight: 5, location: { lat: 35.68, lon: 139.76 } }
  osaka: { vips: [198.51.100.10], weight: 3, location: { lat: 34.69, lon: 135.50 } }
  frankfurt: { vips: [203.0.113.10], weight: 2, location: { lat: 50.11, lon: 8.68 } }
${probedSites}names:
  www.bench.test.: { policy: weighted }
  geo.bench.test.: { policy: nearest }
`
}

/** 1,000 sites with one VIP each, probed by TCP every second (the `closed` check: a connect and a reset). */
function thousandTargets(): string {
  return Array.from({ length: 1000 }, (_, i) => `  probe${i}: { vips: [127.2.${(i >> 8) + 1}.${i & 255}], check: closed }\n`).join('')
}

/** Query files, 1,000 lines each but the random names' 100,000. */
function queryFiles(): Record<'mix' | 'static' | 'nxdomain' | 'random' | 'weighted' | 'nearest', string> {
  const make = (name: string, line: (i: number) => string, lines = 1000): string => {
    const path = join(work, `${name}.txt`)
    writeFileSync(path, Array.from({ length: lines }, (_, i) => line(i)).join('\n') + '\n')
    return path
  }
  return {
    mix: make('mix', (i) => (i % 10 < 6 ? 'www.bench.test A' : i % 10 < 9 ? `static${i % 100}.bench.test A` : `missing${i}.bench.test A`)),
    static: make('static', (i) => `static${i % 100}.bench.test A`),
    nxdomain: make('nxdomain', (i) => `missing${i}.bench.test A`),
    // A random-subdomain flood: 100,000 distinct names (i times an odd constant is one-to-one),
    // far more than the per-thread caches hold, so every query takes the uncached path.
    random: make('random', (i) => `r${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16)}.bench.test A`, 100_000),
    weighted: make('weighted', () => 'www.bench.test A'),
    nearest: make('nearest', () => 'geo.bench.test A'),
  }
}

/** EDNS Client Subnet 81.2.69.142/32 (London in the test database), as dnsperf's -E code:hex. */
const ECS_LONDON = ['-E', '8:000120005102458e']

/** A zone folder with the bench zone and a config. */
function folder(name: string, config: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'bench.test.zone'), benchZone())
  writeFileSync(join(dir, 'signpost.yaml'), config + `admin: { state_file: ${dir}/state.json, audit_log: ${dir}/audit.log }\n`)
  return dir
}

/** `dir`'s zone signed: a key made by `signpost keys new` and the dnssec section pointing at it. */
function signed(dir: string, zone: string): string {
  mkdirSync(join(dir, 'keys'))
  execFileSync(node, ['server/main.ts', 'keys', 'new', zone, '--dir', join(dir, 'keys')])
  writeFileSync(join(dir, 'signpost.yaml'), `dnssec: { keys_dir: keys }\n`, { flag: 'a' })
  return dir
}

/** `checkout`: the Signpost to run (another checkout for BENCH_BASELINE; this one by default). */
async function startSignpost(zones: string, workers: number, cpus: string | undefined, checkout = process.cwd()): Promise<{ child: ChildProcess; port: number }> {
  const args = ['server/main.ts', 'serve', '--zones', zones, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', String(workers)]
  const options = { stdio: ['ignore', 'pipe', 'inherit'] as ['ignore', 'pipe', 'inherit'], cwd: checkout }
  const child = cpus ? spawn('taskset', ['-c', cpus, node, ...args], options) : spawn(node, args, options)
  children.push(child)
  const port = Number(await waitForLine(child, /"udp 127\.0\.0\.1:(\d+)"/))
  return { child, port }
}

type Result = { name: string; qps: number; cpuUsPerQuery: number; rssMb: number; lost: number }

/** Saturating run: QPS and CPU µs per query, of the whole process or of the threads in `tids`. */
async function measure(name: string, pid: number, port: number, file: string, options: Parameters<typeof saturate>[3] = {}): Promise<Result> {
  const run = await saturate(pid, port, file, options)
  return { name, qps: Math.round(run.qps), cpuUsPerQuery: run.cpuUsPerQuery, rssMb: rssMb(pid), lost: run.lost }
}

function printResults(title: string, results: readonly (Result | RangedResult)[], floor?: Result): void {
  const ranged = results.some((r) => 'minUs' in r)
  console.log(`\n${title}\n`)
  console.log(`| run | QPS | CPU µs/query |${ranged ? ' range |' : ''}${floor ? ' vs floor |' : ''} RSS MB | lost |`)
  console.log(`| --- | ---: | ---: |${ranged ? ' ---: |' : ''}${floor ? ' ---: |' : ''} ---: | ---: |`)
  for (const r of results) {
    const range = 'minUs' in r ? ` ${r.minUs.toFixed(1)}–${r.maxUs.toFixed(1)} |` : ''
    console.log(`| ${r.name} | ${r.qps} | ${r.cpuUsPerQuery.toFixed(1)} |${range}${floor ? ` ${(r.cpuUsPerQuery / floor.cpuUsPerQuery).toFixed(2)}× |` : ''} ${r.rssMb.toFixed(0)} | ${r.lost} |`)
  }
}

function printLatencies(latencies: readonly (Latency & { name: string })[]): void {
  console.log('\n| latency | p50 ms | p99 ms | max ms | answered | lost |\n| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const l of latencies) console.log(`| ${l.name} | ${l.p50Ms.toFixed(3)} | ${l.p99Ms.toFixed(3)} | ${l.maxMs.toFixed(1)} | ${l.answered} | ${l.lost} |`)
}

/** 1. Per-query cost against the floor (in turns, then side by side, ROUNDS each), and latency at half load. */
async function perQueryCost(files: ReturnType<typeof queryFiles>): Promise<void> {
  const raw = spawn('taskset', ['-c', '0', node, 'bench/raw-dgram.ts', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(raw)
  const rawPort = Number(await waitForLine(raw, /^(\d+)\n/))
  const { child, port } = await startSignpost(folder('cost', benchConfig()), 1, '0')
  const pid = child.pid!
  const runs: [name: string, pid: number, port: number, file: string, extra: readonly string[]][] = [
    ['raw Node dgram loop (floor)', raw.pid!, rawPort, files.static, []],
    ['signpost: mix (60% weighted GSLB, 30% static, 10% NXDOMAIN)', pid, port, files.mix, []],
    ['signpost: static names', pid, port, files.static, []],
    ['signpost: NXDOMAIN', pid, port, files.nxdomain, []],
    ['signpost: NXDOMAIN, random names (no cache hits)', pid, port, files.random, []],
    ['signpost: GSLB weighted', pid, port, files.weighted, []],
    ['signpost: GSLB nearest, ECS 81.2.69.142/32', pid, port, files.nearest, ECS_LONDON],
  ]
  const rounds: Result[][] = runs.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [name, runPid, runPort, file, extra]] of runs.entries()) rounds[i]!.push(await measure(name, runPid, runPort, file, { extra }))
  }
  const results = rounds.map(medianResult)
  // The same comparison with both loaded at once: the floor answers the same query file beside Signpost.
  const beside = runs.slice(1).map(([name, , , file, extra]) => ({ name, ratios: [] as number[], file, extra }))
  for (let round = 0; round < ROUNDS; round++) {
    for (const set of beside) set.ratios.push(await sideBySide({ pid: raw.pid!, port: rawPort, file: set.file, extra: set.extra }, { pid, port, file: set.file, extra: set.extra }))
  }
  const against = BASELINE ? await againstBaseline(BASELINE, beside) : undefined
  const half = Math.round(results[2]!.qps / 2)
  const latencies: (Latency & { name: string })[] = []
  for (let round = 0; round < ROUNDS; round++) {
    latencies.push({ name: `signpost: static names at ${half} QPS (half of its maximum)`, ...(await latencyAt(port, files.static, half, 5)) })
    latencies.push({ name: `raw Node dgram loop at ${half} QPS`, ...(await latencyAt(rawPort, files.static, half, 5)) })
  }
  await stop(child)
  await stop(raw)
  printResults(`1. UDP, ${SECONDS} s per run, ${ROUNDS} rounds (median, range), 1 DNS worker, whole server on CPU 0, dnsperf on CPU 1`, results, results[0])
  console.log(`\nSide by side: the floor and Signpost on CPU 0 at once, each saturated by its own dnsperf on CPU 1 (same CPU speed for both); Signpost µs ÷ floor µs\n`)
  console.log('| query set | per round | median |\n| --- | --- | ---: |')
  for (const set of beside) console.log(`| ${set.name} | ${set.ratios.map((r) => `${r.toFixed(2)}×`).join(' ')} | ${median(set.ratios).toFixed(2)}× |`)
  if (against) {
    console.log(`\nSide by side with the Signpost in ${BASELINE} (both on CPU 0 at once, as above); this checkout's µs ÷ that one's\n`)
    console.log('| query set | per round | median |\n| --- | --- | ---: |')
    for (const set of against) console.log(`| ${set.name} | ${set.ratios.map((r) => `${r.toFixed(3)}×`).join(' ')} | ${median(set.ratios).toFixed(3)}× |`)
  }
  printLatencies(latencies)
}

/** BENCH_BASELINE=DIR: another checkout (say, the commit before a change) to compare with in section 1. */
const BASELINE = process.env['BENCH_BASELINE']

/** This checkout's Signpost beside the baseline's, both on CPU 0, per query set: ROUNDS ratios each. */
async function againstBaseline(checkout: string, sets: readonly { name: string; file: string; extra: readonly string[] }[]): Promise<{ name: string; ratios: number[] }[]> {
  const ours = await startSignpost(folder('ours', benchConfig()), 1, '0')
  const theirs = await startSignpost(folder('baseline', benchConfig('', existsSync(join(checkout, 'server/abuse')))), 1, '0', resolve(checkout))
  const results = sets.map((set) => ({ name: set.name, ratios: [] as number[] }))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, set] of sets.entries()) results[i]!.ratios.push(await sideBySide({ pid: theirs.child.pid!, port: theirs.port, file: set.file, extra: set.extra }, { pid: ours.child.pid!, port: ours.port, file: set.file, extra: set.extra }))
  }
  await stop(ours.child)
  await stop(theirs.child)
  return results
}

type RangedResult = Result & RoundsSummary

function medianResult(results: readonly Result[]): RangedResult {
  return { name: results[0]!.name, rssMb: Math.max(...results.map((r) => r.rssMb)), ...summarizeRounds(results) }
}

/** 2. The worker thread's cost per query, with and without the checker probing 1,000 targets. */
async function probeLoad(files: ReturnType<typeof queryFiles>): Promise<void> {
  const results: Result[] = []
  const latencies: (Latency & { name: string })[] = []
  for (const [label, config] of [['no probes', benchConfig()], ['checker probing 1,000 targets at 1 s', benchConfig(thousandTargets())]] as const) {
    const { child, port } = await startSignpost(folder(label === 'no probes' ? 'quiet' : 'probed', config), 1, '1')
    const pid = child.pid!
    const workers = threadIds(pid, 'WorkerThread')
    for (const tid of workers) execFileSync('taskset', ['-p', '-c', '0', String(tid)], { stdio: 'ignore' })
    const mainBefore = cpuTicks(pid, pid)
    const startedAt = Date.now()
    results.push(await measure(`static names, ${label}: worker thread`, pid, port, files.static, { tids: workers }))
    latencies.push({ name: `static names at 20,000 QPS, ${label}`, ...(await latencyAt(port, files.static, 20_000, 5)) })
    const mainCpuPerSecond = ticksToSeconds(cpuTicks(pid, pid) - mainBefore) / ((Date.now() - startedAt) / 1000)
    console.error(`${label}: main thread (checker, admin) used ${(mainCpuPerSecond * 1000).toFixed(0)} ms CPU per second`)
    await stop(child)
  }
  printResults(`2. The DNS worker thread alone on CPU 0; main thread (checker) and dnsperf on CPU 1`, results)
  printLatencies(latencies)
}

/**
 * 3. One worker against two, the server and dnsperf unpinned on both cores, at a fixed 30,000 QPS:
 * saturating runs would measure how three busy threads fight over two cores, not what a query
 * costs. Equal CPU µs per query with two workers means the work spreads: with a core per worker,
 * capacity is the worker count times one worker's.
 */
async function scaling(files: ReturnType<typeof queryFiles>): Promise<void> {
  const results: Result[] = []
  const shares: string[] = []
  for (const workers of [1, 2]) {
    const { child, port } = await startSignpost(folder(`scale${workers}`, benchConfig()), workers, undefined)
    const pid = child.pid!
    const threads = threadIds(pid, 'WorkerThread')
    const before = threads.map((tid) => cpuTicks(pid, tid))
    results.push(await measure(`mix at 30,000 QPS, ${workers} worker${workers > 1 ? 's' : ''}`, pid, port, files.mix, { extra: ['-Q', '30000'], dnsperfCpus: '0,1' }))
    const used = threads.map((tid, i) => cpuTicks(pid, tid) - before[i]!)
    const total = used.reduce((a, b) => a + b, 0)
    shares.push(`${workers} worker${workers > 1 ? 's' : ''}: worker CPU split ${used.map((t) => `${Math.round((100 * t) / total)}%`).join(' / ')}`)
    await stop(child)
  }
  printResults('3. Scaling: server and dnsperf unpinned on 2 cores, dnsperf at a fixed 30,000 QPS', results)
  const [one, two] = results as [Result, Result]
  console.log(`\n${shares.join('; ')}\nCPU µs/query, 2 workers ÷ 1: ${(two.cpuUsPerQuery / one.cpuUsPerQuery).toFixed(2)}× → throughput with a core per worker: ${((2 * one.cpuUsPerQuery) / two.cpuUsPerQuery).toFixed(2)}× one worker's`)
}

/** A folder with a 100,000-record zone (100,000 nodes with the apex and ns1) and its config. */
function bigZoneFolder(name: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1']
  for (let i = 0; i < 99_996; i++) lines.push(`host${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
  writeFileSync(join(dir, 'big.test.zone'), lines.join('\n') + '\n')
  writeFileSync(join(dir, 'signpost.yaml'), `admin: { state_file: ${dir}/state.json, audit_log: ${dir}/audit.log }\n`)
  return dir
}

/** 4. A 100,000-record zone: time to load it (`signpost check`) and the serving process's RSS. */
async function bigZone(): Promise<void> {
  const dir = bigZoneFolder('big')
  const started = process.hrtime.bigint()
  execFileSync(node, ['server/main.ts', 'check', '--zones', dir], { encoding: 'utf8' })
  const checkSeconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log('')
  for (const workers of [0, 1, 2]) {
    const serveStarted = process.hrtime.bigint()
    const { child } = await startSignpost(dir, workers, undefined)
    const serveSeconds = Number(process.hrtime.bigint() - serveStarted) / 1e9
    await new Promise((r) => setTimeout(r, 1000))
    console.log(`100,000-record zone, ${workers} worker${workers === 1 ? '' : 's'}: check ${checkSeconds.toFixed(2)} s (process start to exit), serve ready in ${serveSeconds.toFixed(2)} s, RSS ${rssMb(child.pid!).toFixed(0)} MB`)
    await stop(child)
  }
}

/** 5. Signed answers against unsigned ones, one signature's cost, and a signed 100,000-record zone. */
async function dnssec(files: ReturnType<typeof queryFiles>): Promise<void> {
  // Two servers (each its own folder and state file, the same zone and key type): one asked without DO, one with.
  const servers = [await startSignpost(signed(folder('signed', benchConfig()), 'bench.test'), 1, '0'), await startSignpost(signed(folder('signed-do', benchConfig()), 'bench.test'), 1, '0')]
  const [plain, withDo] = servers as [{ child: ChildProcess; port: number }, { child: ChildProcess; port: number }]
  const runs: [string, { child: ChildProcess; port: number }, readonly string[]][] = [['signed zone: mix, no DO', plain, []], ['signed zone: mix, DO=1 on every query', withDo, ['-D']]]
  const rounds: Result[][] = runs.map(() => [])
  for (let round = 0; round < ROUNDS; round++) for (const [i, [name, server, extra]] of runs.entries()) rounds[i]!.push(await measure(name, server.child.pid!, server.port, files.mix, { extra }))
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) ratios.push(await sideBySide({ pid: plain.child.pid!, port: plain.port, file: files.mix }, { pid: withDo.child.pid!, port: withDo.port, file: files.mix, extra: ['-D'] }))
  for (const server of servers) await stop(server.child)
  printResults(`5. DNSSEC: one DNS worker on CPU 0, dnsperf on CPU 1, ${ROUNDS} rounds (median, range)`, rounds.map(medianResult))
  console.log(`\nSide by side (two servers on CPU 0 at once, the same signed zone): DO µs ÷ no-DO µs per round ${ratios.map((r) => `${r.toFixed(3)}×`).join(' ')}, median ${median(ratios).toFixed(3)}×`)
  console.log(execFileSync(node, ['bench/sign-cost.ts'], { encoding: 'utf8' }))

  const big = signed(bigZoneFolder('big-signed'), 'big.test')
  for (const workers of [0, 1]) {
    const started = process.hrtime.bigint()
    const { child } = await startSignpost(big, workers, undefined)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    await new Promise((r) => setTimeout(r, 1000))
    console.log(`100,000-record zone signed (ECDSA P-256, 100,004 RRsets), ${workers} worker${workers === 1 ? '' : 's'}: serve ready in ${seconds.toFixed(2)} s, RSS ${rssMb(child.pid!).toFixed(0)} MB (section 4 has the same zone unsigned)`)
    await stop(child)
  }
}

async function main(): Promise<void> {
  ensureDebianPackages({ dnsperf: 'dnsperf', taskset: 'util-linux' })
  const files = queryFiles()
  try {
    // BENCH_ONLY=2,3 runs those sections alone.
    const only = process.env['BENCH_ONLY']?.split(',')
    const restarts = async (): Promise<void> => void console.log(execFileSync(node, ['bench/restart.ts'], { encoding: 'utf8' }))
    const sections = [() => perQueryCost(files), () => probeLoad(files), () => scaling(files), () => bigZone(), () => dnssec(files), restarts]
    for (const [i, section] of sections.entries()) if (!only || only.includes(String(i + 1))) await section()
  } finally {
    for (const child of children) await stop(child)
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
