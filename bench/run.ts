// `npm run bench`: dnsperf against Signpost on loopback, server pinned to CPU 0 and dnsperf to
// CPU 1. Query mix: 60% a round-robin name with 3 A records, 30% static names, 10% NXDOMAIN.
// Prints QPS, server CPU µs per query and RSS, next to a raw Node dgram loop as the floor, then
// the load time and RSS of a 100,000-record zone. Every run is bounded in time.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensureDebianPackages } from '../test/support/debian.ts'

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10)
const CLK_TCK = 100
const node = process.execPath
const work = mkdtempSync(join(tmpdir(), 'signpost-bench-'))

function benchZone(): string {
  const lines = ['$ORIGIN bench.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1']
  for (const name of ['www', 'geo']) lines.push(`${name} 30 A 192.0.2.10`, `${name} 30 A 198.51.100.10`, `${name} 30 A 203.0.113.10`)
  for (let i = 0; i < 100; i++) lines.push(`static${i} A 10.0.${i}.1`)
  return lines.join('\n') + '\n'
}

function benchConfig(geoDb: string, probedSites = ''): string {
  return `geoip: { database: ${geoDb} }
checks:
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

/** 1,000 sites with one VIP each, probed by TCP every second (the `closed` check). */
function thousandTargets(): string {
  return Array.from({ length: 1000 }, (_, i) => `  probe${i}: { vips: [127.2.${(i >> 8) + 1}.${i & 255}], check: closed }\n`).join('')
}

/** Query files, 1,000 lines each. */
function queryFiles(): Record<string, string> {
  const make = (line: (i: number) => string): string => Array.from({ length: 1000 }, (_, i) => line(i)).join('\n') + '\n'
  return {
    mix: make((i) => (i % 10 < 6 ? 'www.bench.test A' : i % 10 < 9 ? `static${i % 100}.bench.test A` : `missing${i}.bench.test A`)),
    static: make((i) => `static${i % 100}.bench.test A`),
    nxdomain: make((i) => `missing${i}.bench.test A`),
    weighted: make(() => 'www.bench.test A'),
    nearest: make(() => 'geo.bench.test A'),
  }
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0) / 1024
}

async function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${seen}`)), 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const match = pattern.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] ?? match[0])
      }
    })
  })
}

type Latency = { name: string; avgMs: number; stddevMs: number; maxMs: number }

/** Latency at a fixed, moderate rate (where probe work could show as delay rather than lost QPS). */
function latency(name: string, port: number, file: string, rate: number): Latency {
  const out = execFileSync('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-Q', String(rate)], { encoding: 'utf8' })
  const avg = /Average Latency \(s\):\s+([\d.]+) \(min [\d.]+, max ([\d.]+)\)/.exec(out)
  const stddev = /Latency StdDev \(s\):\s+([\d.]+)/.exec(out)
  return { name, avgMs: Number(avg?.[1]) * 1000, maxMs: Number(avg?.[2]) * 1000, stddevMs: Number(stddev?.[1]) * 1000 }
}

type Result = { name: string; qps: number; cpuUsPerQuery: number; rssMb: number; lost: number }

/** EDNS Client Subnet 81.2.69.142/32 (London in the test database), as dnsperf's -E code:hex. */
const ECS_LONDON = ['-E', '8:000120005102458e']

function dnsperf(port: number, file: string, extra: readonly string[]): { qps: number; completed: number; lost: number } {
  const out = execFileSync('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-q', '200', '-c', '4', '-t', '2', ...extra], { encoding: 'utf8' })
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1])
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1])
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1])
  return { qps, completed, lost }
}

async function measure(name: string, child: ChildProcess, port: number, file: string, extra: readonly string[] = []): Promise<Result> {
  const pid = child.pid!
  // Warm up the JIT before measuring.
  execFileSync('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', '2', '-q', '200', ...extra], { encoding: 'utf8' })
  const before = cpuTicks(pid)
  const run = dnsperf(port, file, extra)
  const ticks = cpuTicks(pid) - before
  return { name, qps: Math.round(run.qps), cpuUsPerQuery: (ticks / CLK_TCK) * 1e6 / run.completed, rssMb: rssMb(pid), lost: run.lost }
}

async function main(): Promise<void> {
  ensureDebianPackages({ dnsperf: 'dnsperf', taskset: 'util-linux' })
  const zones = join(work, 'zones')
  mkdirSync(zones)
  writeFileSync(join(zones, 'bench.test.zone'), benchZone())
  writeFileSync(join(zones, 'signpost.yaml'), benchConfig(resolve('zones/geoip/GeoLite2-City-Test.mmdb')))
  const files = Object.fromEntries(Object.entries(queryFiles()).map(([name, text]) => {
    const path = join(work, `${name}.txt`)
    writeFileSync(path, text)
    return [name, path]
  })) as Record<ReturnType<typeof Object.keys>[number], string>
  const results: Result[] = []
  const children: ChildProcess[] = []
  try {
    const raw = spawn('taskset', ['-c', '0', node, 'bench/raw-dgram.ts', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(raw)
    const rawPort = Number(await waitForLine(raw, /^(\d+)\n/))
    results.push(await measure('raw Node dgram loop (floor)', raw, rawPort, files['static']!))
    raw.kill()

    const server = spawn('taskset', ['-c', '0', node, 'server/main.ts', 'serve', '--zones', zones, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(server)
    const port = Number(await waitForLine(server, /"udp 127\.0\.0\.1:(\d+)"/))
    results.push(await measure('signpost: mix (60% weighted GSLB, 30% static, 10% NXDOMAIN)', server, port, files['mix']!))
    results.push(await measure('signpost: static names', server, port, files['static']!))
    results.push(await measure('signpost: NXDOMAIN', server, port, files['nxdomain']!))
    results.push(await measure('signpost: GSLB weighted', server, port, files['weighted']!))
    results.push(await measure('signpost: GSLB nearest, ECS 81.2.69.142/32', server, port, files['nearest']!, ECS_LONDON))
    const latencies = [latency('static names at 20k QPS', port, files['static']!, 20_000)]
    server.kill()

    // The same static queries while the checker probes 1,000 targets every second (TCP to a closed
    // loopback port: each probe is a connect and a reset), in the same process.
    const probed = join(work, 'probed')
    mkdirSync(probed)
    writeFileSync(join(probed, 'bench.test.zone'), benchZone())
    writeFileSync(join(probed, 'signpost.yaml'), benchConfig(resolve('zones/geoip/GeoLite2-City-Test.mmdb'), thousandTargets()))
    const busy = spawn('taskset', ['-c', '0', node, 'server/main.ts', 'serve', '--zones', probed, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(busy)
    const busyPort = Number(await waitForLine(busy, /"udp 127\.0\.0\.1:(\d+)"/))
    results.push(await measure('signpost: static names, checker probing 1,000 targets at 1 s', busy, busyPort, files['static']!))
    latencies.push(latency('static names at 20k QPS, checker probing 1,000 targets at 1 s', busyPort, files['static']!, 20_000))
    busy.kill()

    console.log(`\nUDP, ${SECONDS} s per run, server on CPU 0, dnsperf on CPU 1\n`)
    console.log('| run | QPS | CPU µs/query | vs floor | RSS MB | lost |')
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
    const floor = results[0]!
    for (const r of results) console.log(`| ${r.name} | ${r.qps} | ${r.cpuUsPerQuery.toFixed(1)} | ${(r.cpuUsPerQuery / floor.cpuUsPerQuery).toFixed(2)}× | ${r.rssMb.toFixed(0)} | ${r.lost} |`)
    const staticCost = results[2]!.cpuUsPerQuery
    for (const r of results.slice(4)) console.log(`${r.name}: ${(r.cpuUsPerQuery / staticCost).toFixed(2)}× a static answer's CPU`)
    console.log('\n| latency | avg ms | stddev ms | max ms |\n| --- | ---: | ---: | ---: |')
    for (const l of latencies) console.log(`| ${l.name} | ${l.avgMs.toFixed(3)} | ${l.stddevMs.toFixed(3)} | ${l.maxMs.toFixed(1)} |`)

    await bigZone(children)
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill()
    rmSync(work, { recursive: true, force: true })
  }
}

/** A 100,000-record zone: time to load it (`signpost check`) and the serving process's RSS. */
async function bigZone(children: ChildProcess[]): Promise<void> {
  const dir = join(work, 'big')
  mkdirSync(dir)
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1']
  for (let i = 0; i < 99_996; i++) lines.push(`host${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
  writeFileSync(join(dir, 'big.test.zone'), lines.join('\n') + '\n')
  const started = process.hrtime.bigint()
  execFileSync(node, ['server/main.ts', 'check', '--zones', dir], { encoding: 'utf8' })
  const checkSeconds = Number(process.hrtime.bigint() - started) / 1e9
  const serveStarted = process.hrtime.bigint()
  const server = spawn(node, ['server/main.ts', 'serve', '--zones', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(server)
  await waitForLine(server, /"udp 127\.0\.0\.1:(\d+)"/)
  const serveSeconds = Number(process.hrtime.bigint() - serveStarted) / 1e9
  const rss = rssMb(server.pid!)
  server.kill()
  console.log(`\n100,000-record zone: check ${checkSeconds.toFixed(2)} s (process start to exit), serve ready in ${serveSeconds.toFixed(2)} s, RSS ${rss.toFixed(0)} MB`)
}

await main()
