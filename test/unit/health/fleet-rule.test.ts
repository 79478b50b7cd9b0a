// The fleet verdict rule, table-tested: each row is the vantage points' verdicts and what each rule makes of them.

import { describe, expect, it } from 'vitest'
import { fleetVerdict, type FleetRule } from '../../../server/health/fleet-rule.ts'
import type { HealthState } from '../../../server/health/types.ts'

const U = 'up', D = 'down', X = 'unknown'
const RULES: readonly FleetRule[] = ['majority', 'any', 'all', 0.18, 0.5]

// verdicts → [majority, any, all, 0.18, 0.5]
const TABLE: readonly (readonly [readonly HealthState[], readonly HealthState[]])[] = [
  [[], [X, X, X, X, X]],
  [[X, X], [X, X, X, X, X]],
  [[U], [U, U, U, U, U]],
  [[D], [D, D, D, D, D]],
  // Two vantage points that disagree: a tie is not a majority; only `any` withdraws.
  [[U, D], [U, D, U, U, D]],
  [[D, D], [D, D, D, D, D]],
  // One of three cut off from the site: the partition case.
  [[D, U, U], [U, D, U, U, U]],
  [[D, D, U], [D, D, U, U, D]],
  [[D, D, D], [D, D, D, D, D]],
  // A vantage point with no verdict yet does not vote.
  [[D, X, U], [U, D, U, U, D]],
  [[D, X, X], [D, D, D, D, D]],
  // Route 53's 18%: one up in five is 20%, more than 18%: up; one in six is 16.7%: down.
  [[U, D, D, D, D], [D, D, U, U, D]],
  [[U, D, D, D, D, D], [D, D, U, D, D]],
  [[U, U, U, D, D], [U, D, U, U, U]],
]

describe('fleetVerdict', () => {
  for (const [verdicts, expected] of TABLE) {
    it(`[${verdicts.join(', ')}] → ${RULES.map((r, i) => `${r}: ${expected[i]}`).join(', ')}`, () => {
      expect(RULES.map((rule) => fleetVerdict(rule, verdicts))).toEqual(expected)
    })
  }

  it('order does not matter', () => {
    for (const rule of RULES) expect(fleetVerdict(rule, [U, D, D])).toBe(fleetVerdict(rule, [D, U, D]))
  })
})
