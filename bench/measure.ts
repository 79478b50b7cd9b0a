// What every benchmark measures, one way: server CPU from /proc (all threads), RSS, dnsperf runs
// (throughput, and per-query latency at a fixed rate), and waiting for a server's ready line.
// dnsperf runs asynchronously so a benchmark's own event loop (backends it serves) keeps turning.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const CLK_TCK = 100

export const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10)
/**
 * This machine's CPU speed drifts by 20% and more from minute to minute, so servers compared in a
 * table run in turns, ROUNDS times, and the table shows medians with the range.
 */
export const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3)

export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
}

export type RoundsSummary = { qps: number; cpuUsPerQuery: number; minUs: number; maxUs: number; lost: number }

/** One server's saturating runs over the rounds: median QPS and CPU µs per query, the µs range, all losses. */
export function summarizeRounds(runs: readonly { qps: number; cpuUsPerQuery: number; lost: number }[]): RoundsSummary {
  const us = runs.map((r) => r.cpuUsPerQuery)
  return { qps: median(runs.map((r) => r.qps)), cpuUsPerQuery: median(us), minUs: Math.min(...us), maxUs: Math.max(...us), lost: runs.reduce((sum, r) => sum + r.lost, 0) }
}

/** Thread ids of a process whose name (comm) is `name`, e.g. Node's 'WorkerThread'. */
export function threadIds(pid: number, name: string): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number).filter((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name)
}

/** User + system CPU ticks of a process (every thread), or of one thread with `tid`. */
export function cpuTicks(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}

export function ticksToSeconds(ticks: number): number {
  return ticks / CLK_TCK
}

export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0) / 1024
}

export async function waitForLine(child: ChildProcess, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', limitMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${seen.slice(-2000)}`)), limitMs)
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const match = pattern.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] ?? match[0])
      }
    })
  })
}

export type Throughput = { qps: number; completed: number; lost: number }

/** dnsperf (on `cpus`) against 127.0.0.1:port for `seconds`, as fast as the server answers. */
export async function dnsperf(port: number, file: string, seconds: number, extra: readonly string[] = [], cpus = '1'): Promise<Throughput> {
  const { stdout } = await run('taskset', ['-c', cpus, 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-q', '200', '-c', '4', '-t', '2', ...extra], { maxBuffer: 1 << 20 })
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1]),
    completed: Number(/Queries completed:\s+(\d+)/.exec(stdout)?.[1]),
    lost: Number(/Queries lost:\s+(\d+)/.exec(stdout)?.[1]),
  }
}

export type Saturated = Throughput & { cpuUsPerQuery: number }

/**
 * dnsperf as fast as the server answers, after a 2 s warm-up for the JIT: QPS and the CPU µs per
 * query of the process `pid` (or only of its threads `tids`).
 */
export async function saturate(pid: number, port: number, file: string, options: { extra?: readonly string[]; tids?: readonly number[]; dnsperfCpus?: string } = {}): Promise<Saturated> {
  const ticks = (): number => (options.tids ? options.tids.reduce((sum, tid) => sum + cpuTicks(pid, tid), 0) : cpuTicks(pid))
  await dnsperf(port, file, 2, options.extra, options.dnsperfCpus)
  const before = ticks()
  const run = await dnsperf(port, file, SECONDS, options.extra, options.dnsperfCpus)
  return { ...run, cpuUsPerQuery: (ticksToSeconds(ticks() - before) * 1e6) / run.completed }
}

export type Loaded = { readonly pid: number; readonly port: number; readonly file: string; readonly extra?: readonly string[] }

/**
 * Two servers pinned to one core, loaded at the same time, each by its own dnsperf: both see the
 * same CPU speed at every moment, so the ratio of their CPU µs per query holds still while this VM's
 * speed drifts (the raw loop beside a copy of itself in a worker thread measured 0.99–1.01×).
 * Sharing the core costs the program with more code and data a little more in cache refills, so
 * the ratio errs against the bigger one. Returns b's CPU µs per query ÷ a's.
 */
export async function sideBySide(a: Loaded, b: Loaded): Promise<number> {
  const both = [a, b] as const
  await Promise.all(both.map((t) => dnsperf(t.port, t.file, 2, t.extra)))
  const before = both.map((t) => cpuTicks(t.pid))
  const runs = await Promise.all(both.map((t) => dnsperf(t.port, t.file, SECONDS, t.extra)))
  const [aTicksPerQuery, bTicksPerQuery] = both.map((t, i) => (cpuTicks(t.pid) - before[i]!) / runs[i]!.completed) as [number, number]
  return bTicksPerQuery / aTicksPerQuery
}

/** Stops a process the benchmark started and waits for it to be gone. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill()
  await new Promise((r) => child.once('exit', r))
}

export type Latency = { p50Ms: number; p99Ms: number; maxMs: number; answered: number; lost: number }

/**
 * Per-query latency at a fixed rate (dnsperf -v prints each query's time), as percentiles.
 * dnsperf writes its line per query straight to a file: read through a pipe, this process woke
 * ~40,000 times a second on whichever core, the server's included, and the tail measured that.
 */
export async function latencyAt(port: number, file: string, rate: number, seconds: number, extra: readonly string[] = []): Promise<Latency> {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-latency-'))
  const output = openSync(join(dir, 'dnsperf.txt'), 'w')
  try {
    const dnsperf = spawn('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-Q', String(Math.round(rate)), '-v', ...extra], { stdio: ['ignore', output, 'inherit'] })
    await new Promise((resolve) => dnsperf.once('exit', resolve))
  } finally {
    closeSync(output)
  }
  const stdout = readFileSync(join(dir, 'dnsperf.txt'), 'utf8')
  rmSync(dir, { recursive: true })
  const times: number[] = []
  for (const match of stdout.matchAll(/^> \S+ .* ([\d.]+)$/gm)) times.push(Number(match[1]) * 1000)
  times.sort((a, b) => a - b)
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: times[times.length - 1] ?? NaN, answered: times.length, lost: Number(/Queries lost:\s+(\d+)/.exec(stdout)?.[1]) }
}
