// The verdict for one target, as a pure function (gdnsd's mon.c state machine, rise/fall as in
// keepalived and HAProxy). The first result decides at once, so the start-up round gives real
// verdicts; after that a target changes state only after `fall` failures or `rise` successes in a row.

import type { ProbeResult, RiseFall, TargetHealth, Transition } from './types.ts'

const HISTORY = 10
/** Weight of the newest round trip in the smoothed latency: about the last 5 probes count. */
export const LATENCY_ALPHA = 0.3

/** The smoothed latency after a result: successful probes only (a failure has no round trip). */
export function nextLatency(previous: number | undefined, result: ProbeResult): number | undefined {
  if (!result.ok) return previous
  return previous === undefined ? result.ms : previous + LATENCY_ALPHA * (result.ms - previous)
}

export function describeResult(result: ProbeResult): string {
  return result.ok ? `ok in ${result.ms} ms` : result.detail
}

export function nextHealth(id: string, prev: TargetHealth, result: ProbeResult, rules: RiseFall, now: number): { health: TargetHealth; transition: Transition | undefined } {
  // A probe this machine could not make (out of descriptors, …) is no verdict: nothing moves.
  if (!result.ok && result.reason === 'local') return { health: prev, transition: undefined }
  const wanted = result.ok ? 'up' : 'down'
  const latencyMs = nextLatency(prev.latencyMs, result)
  if (prev.state === wanted) return { health: { ...prev, against: 0, last: result, latencyMs }, transition: undefined }
  const against = prev.against + 1
  const needed = prev.state === 'unknown' ? 1 : result.ok ? rules.rise : rules.fall
  if (against < needed) return { health: { ...prev, against, last: result, latencyMs }, transition: undefined }
  const transition: Transition = { id, from: prev.state, to: wanted, at: now, reason: describeResult(result) }
  return {
    health: { state: wanted, against: 0, last: result, lastChange: now, history: [...prev.history, transition].slice(-HISTORY), latencyMs },
    transition,
  }
}

/** How long until the next probe: the interval, or the recheck delay while a change is pending. */
export function nextDelay(health: TargetHealth, rules: RiseFall): number {
  return health.against > 0 ? rules.recheckMs : rules.intervalMs
}
