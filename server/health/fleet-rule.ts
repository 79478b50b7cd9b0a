// The fleet verdict: many vantage points (the name servers of a fleet, each probing every target)
// say up or down, and one rule makes their verdicts one. Pure.
//   majority  down when more than half of them say down (a tie stays up)
//   any       down when any one says down
//   all       down only when every one says down
//   a number  up when more than that share says up (Route 53's checkers: 0.18)
// Vantage points with no verdict yet ('unknown') do not vote; with no votes the verdict is unknown.

import type { FleetRuleConfig } from '../config/schema.ts'
import type { HealthState } from './types.ts'

export type FleetRule = FleetRuleConfig

export const DEFAULT_FLEET_RULE: FleetRule = 'majority'

export function fleetVerdict(rule: FleetRule, verdicts: Iterable<HealthState>): HealthState {
  let up = 0
  let down = 0
  for (const v of verdicts) {
    if (v === 'up') up++
    else if (v === 'down') down++
  }
  const votes = up + down
  if (votes === 0) return 'unknown'
  switch (rule) {
    case 'majority':
      return down * 2 > votes ? 'down' : 'up'
    case 'any':
      return down > 0 ? 'down' : 'up'
    case 'all':
      return up === 0 ? 'down' : 'up'
    default:
      return up > rule * votes ? 'up' : 'down'
  }
}

/** The rule as text, for status and logs. */
export function describeFleetRule(rule: FleetRule): string {
  return typeof rule === 'number' ? `up when more than ${Math.round(rule * 1000) / 10}% say up` : rule
}
