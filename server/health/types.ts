// What the health checker probes and what it concludes.

import type { ProbeResult, ProbeSpec } from './probes/types.ts'

export type { ProbeResult, ProbeSpec } from './probes/types.ts'

export type RiseFall = {
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly rise: number
  readonly fall: number
  /** After a result that goes against the current state, probe again this soon (NS1's rapid recheck). */
  readonly recheckMs: number
}

/** One thing to probe: a server (site VIP) or an LB node's own address. */
export type ProbeTarget = {
  /** Stable across reloads while address and check stay the same. */
  readonly id: string
  readonly kind: 'server' | 'lb-node'
  readonly address: string
  readonly site: string
  /** The LB node's name, for kind 'lb-node'. */
  readonly node: string | undefined
  readonly probe: ProbeSpec
  readonly rules: RiseFall
}

export type HealthState = 'unknown' | 'up' | 'down'

export type Transition = { readonly id: string; readonly from: HealthState; readonly to: 'up' | 'down'; readonly at: number; readonly reason: string }

export type TargetHealth = {
  readonly state: HealthState
  /** Consecutive results against the current state (successes while down, failures while up). */
  readonly against: number
  readonly last: ProbeResult | undefined
  readonly lastChange: number | undefined
  /** The most recent transitions, newest last. */
  readonly history: readonly Transition[]
  /** Round-trip time of the successful probes, smoothed (EWMA, rise-fall.ts): "slow to answer". */
  readonly latencyMs: number | undefined
}

export const INITIAL_HEALTH: TargetHealth = Object.freeze({ state: 'unknown', against: 0, last: undefined, lastChange: undefined, history: [], latencyMs: undefined })
