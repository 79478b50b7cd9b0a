// Config → what to read load from: every site with a `load` signal. Pure.

import type { Config } from '../config/schema.ts'
import type { LoadTarget } from './types.ts'

export const DEFAULT_LOAD_INTERVAL_MS = 1000
export const DEFAULT_LOAD_TIMEOUT_MS = 800
export const DEFAULT_JSON_FIELD = 'load'
/** A reading older than this many intervals is stale: unknown, which changes nothing. */
export const STALE_INTERVALS = 3

export function loadTargets(config: Config): LoadTarget[] {
  return Object.entries(config.sites ?? {}).flatMap(([site, siteConfig]): LoadTarget[] => {
    const load = siteConfig.load
    if (!load) return []
    const intervalMs = load.interval_ms ?? DEFAULT_LOAD_INTERVAL_MS
    const timeoutMs = Math.min(load.timeout_ms ?? DEFAULT_LOAD_TIMEOUT_MS, intervalMs)
    const nodes = Object.entries(siteConfig.lb_pair ?? {}).map(([name, address]) => ({ name, address }))
    const signal: LoadTarget['signal'] =
      load.type === 'haproxy' ? { type: 'haproxy', statsUrl: load.stats_url, proxy: load.proxy }
        : load.type === 'http_json' ? { type: 'http_json', url: load.url, field: load.field ?? DEFAULT_JSON_FIELD }
          : { type: 'latency', fullMs: load.full_ms }
    return [{ site, signal, nodes, intervalMs, timeoutMs }]
  })
}
