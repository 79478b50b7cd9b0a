// The verdict state machine, table-driven: sequences of probe results in, states and transitions out.

import { describe, expect, it } from 'vitest'
import { pairStatus, type LbNodeStatus } from '../../../server/health/lb-pair.ts'
import { nextDelay, nextHealth, nextLatency } from '../../../server/health/rise-fall.ts'
import { INITIAL_HEALTH, type ProbeResult, type RiseFall, type TargetHealth } from '../../../server/health/types.ts'
import { seededRandom } from '../../support/random.ts'

const rules: RiseFall = { intervalMs: 1000, timeoutMs: 800, rise: 2, fall: 3, recheckMs: 150 }
const ok: ProbeResult = { ok: true, ms: 1 }
const bad: ProbeResult = { ok: false, ms: 1, reason: 'refused', detail: 'connect ECONNREFUSED' }
const local: ProbeResult = { ok: false, ms: 0, reason: 'local', detail: 'connect EMFILE' }

function run(results: string): { states: string; transitions: number; health: TargetHealth } {
  let health = INITIAL_HEALTH
  let states = ''
  let transitions = 0
  for (const [i, c] of [...results].entries()) {
    const step = nextHealth('t', health, c === '+' ? ok : c === 'x' ? local : bad, rules, i)
    health = step.health
    if (step.transition) transitions++
    states += health.state === 'up' ? 'U' : health.state === 'down' ? 'D' : '?'
  }
  return { states, transitions, health }
}

describe('rise and fall', () => {
  it.each([
    ['the first result decides at once (start-up round)', '+', 'U'],
    ['a first failure marks down at once', '-', 'D'],
    ['goes down only after `fall` (3) failures in a row', '+---', 'UUUD'],
    ['a probe this machine could not make (x: EMFILE) is no verdict, however many', '+xxxxxx', 'UUUUUUU'],
    ['nor does it count toward fall, or reset it', '+--xxxx-', 'UUUUUUUD'],
    ['nor decide a first verdict', 'xx+', '??U'],
    ['a success in between resets the count', '+--+--+', 'UUUUUUU'],
    ['comes back only after `rise` (2) successes in a row', '-+-++', 'DDDDU'],
  ])('%s', (_name, results, states) => {
    expect(run(results).states).toBe(states)
  })

  it('records the reason and keeps a short history', () => {
    const { health } = run('+---++'.repeat(5))
    expect(health.history).toHaveLength(10)
    expect(health.history.at(-1)).toMatchObject({ from: 'down', to: 'up' })
    expect(run('+---').health.history.at(-1)).toMatchObject({ from: 'up', to: 'down', reason: 'connect ECONNREFUSED' })
  })

  it('rechecks fast while a change is pending, else waits the interval', () => {
    expect(nextDelay(run('+').health, rules)).toBe(1000)
    expect(nextDelay(run('+-').health, rules)).toBe(150)
    expect(nextDelay(run('+---').health, rules)).toBe(1000)
  })

  it('keeps a backend that fails one probe in three (seeded) from flapping with fall 2 / rise 2', () => {
    // 10,000 probes ≈ 2.8 hours at 1 s: count how often the server would leave and come back.
    const flaps = (fall: number): number => {
      const random = seededRandom(3)
      let health = INITIAL_HEALTH
      let leaves = 0
      for (let i = 0; i < 10_000; i++) {
        const step = nextHealth('t', health, random() < 1 / 3 ? bad : ok, { ...rules, fall, rise: 2 }, i)
        if (step.transition?.to === 'down' && step.transition.from === 'up') leaves++
        health = step.health
      }
      return leaves
    }
    // fall 1 drops it on every failed probe; fall 2 only on two in a row (1 in 9 pairs); fall 3 on three.
    expect(flaps(1)).toBeGreaterThan(1500)
    expect(flaps(2)).toBeLessThan(flaps(1) / 2)
    expect(flaps(3)).toBeLessThan(flaps(2) / 2)
  })
})

describe('LB pairs', () => {
  const node = (name: string, probe: 'up' | 'down' | 'unknown', keepalived?: LbNodeStatus['keepalived']): LbNodeStatus => ({ name, address: '127.0.0.1', probe, keepalived })
  it.each([
    ['both nodes up: neither degraded nor down', [node('a', 'up', 'MASTER'), node('b', 'up', 'BACKUP')], { degraded: false, down: false }],
    ['one node fails its probe: degraded', [node('a', 'up'), node('b', 'down')], { degraded: true, down: false }],
    ['one node in FAULT: degraded', [node('a', 'up', 'MASTER'), node('b', 'up', 'FAULT')], { degraded: true, down: false }],
    ['every node FAULT or STOP: down at once', [node('a', 'up', 'FAULT'), node('b', 'up', 'STOP')], { degraded: false, down: true }],
    ['one node never reported: not down', [node('a', 'up', 'FAULT'), node('b', 'up')], { degraded: true, down: false }],
  ])('%s', (_name, nodes, expected) => {
    expect(pairStatus(nodes)).toMatchObject(expected)
  })
})

describe('nextLatency', () => {
  it('smooths successful round trips (EWMA, 0.3 for the newest); a failure keeps it', () => {
    const ok = (ms: number): ProbeResult => ({ ok: true, ms })
    let latency = nextLatency(undefined, ok(10))
    expect(latency).toBe(10)
    latency = nextLatency(latency, ok(110))
    expect(latency).toBeCloseTo(40)
    expect(nextLatency(latency, { ok: false, ms: 800, reason: 'timeout', detail: 'no answer' })).toBeCloseTo(40)
  })
})
