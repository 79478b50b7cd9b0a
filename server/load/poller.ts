// Reads every site's load signal on its own jittered timer, off the query path, and hands each
// reading over as it comes. A haproxy `stats_url` with `{node}` is read from the LB node that
// keepalived says holds the VIP (MASTER); while keepalived has said nothing, from every node of
// the pair, and the busiest counts (the node holding the VIP is the one with the sessions). A
// failed read is a reading too, with its problem; the last good one is kept beside it, and the
// caller decides when that is stale.

import { haproxyLoad } from './haproxy-csv.ts'
import { jsonLoad } from './json-load.ts'
import type { HaproxyFigures, LoadReading, LoadTarget } from './types.ts'

/** A site's latest reading, and its latest good one (the same when the latest is good). */
export type SiteReadings = { readonly last: LoadReading; readonly good: Extract<LoadReading, { ok: true }> | undefined }

export type LoadPoller = {
  latest(): ReadonlyMap<string, SiteReadings>
  stop(): void
}

export type LoadPollerOptions = {
  readonly targets: readonly LoadTarget[]
  /** Readings carried over from the poller before (a reload), by site: a reload never forgets a busy site. */
  readonly previous: ReadonlyMap<string, SiteReadings>
  /** The LB node keepalived last called MASTER at `site`, if any. */
  readonly masterOf: (site: string) => string | undefined
  /** The slowest smoothed probe round trip among `site`'s VIPs, in ms, if any probe answered yet. */
  readonly latencyOf: (site: string) => number | undefined
  readonly onReading: (site: string, reading: LoadReading) => void
}

const NODE = '{node}'

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  const text = await response.text()
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return text
}

type Parsed = { readonly ok: true; readonly utilisation: number; readonly figures?: HaproxyFigures } | { readonly ok: false; readonly problem: string }

/** One reading of `url`, its reply made a utilisation by `parse`. */
async function readOne(target: LoadTarget, url: string, from: string, parse: (text: string) => Parsed): Promise<LoadReading> {
  const at = Date.now()
  try {
    const read = parse(await fetchText(url, target.timeoutMs))
    if (!read.ok) return { ok: false, at, from, problem: read.problem }
    return { ok: true, utilisation: read.utilisation, at, from, ...(read.figures ? { haproxy: read.figures } : {}) }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return { ok: false, at, from, problem: (error as Error).name === 'TimeoutError' ? `no answer within ${target.timeoutMs} ms` : (cause ?? (error as Error).message) }
  }
}

export async function readLoad(target: LoadTarget, master: string | undefined, latency: number | undefined): Promise<LoadReading> {
  const { signal } = target
  if (signal.type === 'latency') {
    const at = Date.now()
    return latency === undefined ? { ok: false, at, from: 'probes', problem: 'no probe of its VIPs has answered yet' } : { ok: true, utilisation: Math.min(1, latency / signal.fullMs), at, from: 'probes' }
  }
  if (signal.type === 'http_json') return readOne(target, signal.url, signal.url, (text) => jsonLoad(text, signal.field))
  const parse = (text: string): Parsed => haproxyLoad(text, signal.proxy)
  if (!signal.statsUrl.includes(NODE) || target.nodes.length === 0) return readOne(target, signal.statsUrl.replaceAll(NODE, target.nodes[0]?.address ?? ''), signal.statsUrl, parse)
  const holder = target.nodes.find((n) => n.name === master)
  const nodes = holder ? [holder] : target.nodes
  const readings = await Promise.all(nodes.map((n) => readOne(target, signal.statsUrl.replaceAll(NODE, n.address), n.name, parse)))
  const good = readings.filter((r) => r.ok)
  if (good.length === 0) return readings[0]!
  return good.reduce((a, b) => (b.utilisation > a.utilisation ? b : a))
}

/** `random` spreads the timers (injected so tests can fix it). */
export function createLoadPoller(options: LoadPollerOptions, random: () => number = Math.random): LoadPoller {
  const latest = new Map<string, SiteReadings>(options.targets.flatMap((t) => {
    const kept = options.previous.get(t.site)
    return kept ? [[t.site, kept] as const] : []
  }))
  const timers = new Map<string, NodeJS.Timeout>()
  let stopped = false
  const schedule = (target: LoadTarget, delay: number): void => {
    if (stopped) return
    const timer = setTimeout(() => {
      void readLoad(target, options.masterOf(target.site), options.latencyOf(target.site)).then((reading) => {
        if (stopped) return
        latest.set(target.site, { last: reading, good: reading.ok ? reading : latest.get(target.site)?.good })
        options.onReading(target.site, reading)
        schedule(target, target.intervalMs * (0.9 + 0.2 * random()))
      })
    }, delay)
    timer.unref()
    timers.set(target.site, timer)
  }
  for (const target of options.targets) schedule(target, target.intervalMs * random())
  return {
    latest: () => latest,
    stop() {
      stopped = true
      for (const timer of timers.values()) clearTimeout(timer)
    },
  }
}
