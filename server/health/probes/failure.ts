import type { ProbeResult } from './types.ts'

/** A failed probe result, timed from `started` (performance.now()). */
export function failure(reason: Extract<ProbeResult, { ok: false }>['reason'], detail: string, started: number): ProbeResult {
  return { ok: false, ms: Math.round(performance.now() - started), reason, detail }
}
