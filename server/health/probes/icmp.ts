// ICMP echo for every ICMP target at once: one long-running `fping -l` (Debian's fping) sends one
// echo request per target per period and prints each reply; a probe then only reads the newest
// reply of its address (a reply within period + timeout is up, none is down). So 1,000 ICMP
// targets cost one process and no probe slot waits on the network, except in the start-up round,
// which waits for the first reply (or period + timeout). An fping that dies is started again.

import { spawn, type ChildProcess } from 'node:child_process'
import { failure } from './failure.ts'
import type { ProbeResult } from './types.ts'

export type Pinger = {
  probe(address: string): Promise<ProbeResult>
  stop(): void
}

export type PingerOptions = {
  readonly addresses: readonly string[]
  /** Between two echo requests to one target: the ICMP checks' shortest interval. */
  readonly periodMs: number
  /** How long a reply may take: the ICMP checks' longest timeout. */
  readonly timeoutMs: number
  readonly sourceAddress: string | undefined
}

const REPLY = /^(\S+)\s+: \[\d+\], \d+ bytes, ([\d.]+) ms/
const RESTART_MS = 1000
/** fping sends one packet every `-i` ms across all targets (its default, 10, is 100 targets a second); 1 is its floor. */
const FPING_DEFAULT_SPACING_MS = 10

export function startPinger(options: PingerOptions): Pinger {
  const replies = new Map<string, { at: number; ms: number }>()
  const waiters = new Map<string, (() => void)[]>()
  // Spread a period's requests over the period, so every target is asked once per period.
  const spacingMs = Math.max(1, Math.min(FPING_DEFAULT_SPACING_MS, Math.floor(options.periodMs / Math.max(1, options.addresses.length))))
  // Past 1 ms × targets a round is longer than the period: a reply is fresh for one round then.
  const freshFor = Math.max(options.periodMs, spacingMs * options.addresses.length) + options.timeoutMs
  let child: ChildProcess | undefined
  let startedAt = 0
  let unavailable: string | undefined
  let stopped = false

  const run = (): void => {
    if (stopped) return
    startedAt = performance.now()
    const args = ['-l', '-e', '-i', String(spacingMs), '-p', String(options.periodMs), '-t', String(options.timeoutMs), ...(options.sourceAddress ? ['-S', options.sourceAddress] : []), ...options.addresses]
    const next = spawn('fping', args, { stdio: ['ignore', 'pipe', 'ignore'] })
    child = next
    let buffered = ''
    next.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const match = REPLY.exec(line)
        if (!match) continue
        const address = match[1]!
        replies.set(address, { at: performance.now(), ms: Math.round(Number(match[2])) })
        for (const wake of waiters.get(address) ?? []) wake()
        waiters.delete(address)
      }
    })
    next.once('error', (error: NodeJS.ErrnoException) => {
      unavailable = error.code === 'ENOENT' ? 'fping is not installed (Debian package fping)' : `fping: ${error.message}`
    })
    next.once('exit', () => {
      if (child === next && !stopped) setTimeout(run, RESTART_MS).unref()
    })
  }
  run()

  const verdict = (address: string, started: number): ProbeResult => {
    if (unavailable) return failure('local', unavailable, started)
    const reply = replies.get(address)
    if (reply && performance.now() - reply.at <= freshFor) return { ok: true, ms: reply.ms }
    return failure('timeout', `no echo reply within ${freshFor} ms`, started)
  }

  return {
    async probe(address) {
      const started = performance.now()
      // Until fping has had one period and a timeout for this address, wait for its first reply.
      const wait = startedAt + freshFor - started
      if (!replies.has(address) && wait > 0 && !unavailable) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait)
          waiters.set(address, [...(waiters.get(address) ?? []), () => (clearTimeout(timer), resolve())])
        })
      }
      return verdict(address, started)
    },
    stop() {
      stopped = true
      child?.kill()
    },
  }
}
