// Health across the fleet, decided without I/O: this instance's probe verdicts and its peers'
// published ones become one verdict per target with the config's fleet rule
// (health/fleet-rule.ts), and the view operators read ("down at ns1: refused; up at ns2 → up").

import { fleetVerdict, type FleetRule } from '../health/fleet-rule.ts'
import { INITIAL_HEALTH, type HealthState, type ProbeTarget, type TargetHealth } from '../health/types.ts'
import type { KeepalivedState } from '../health/lb-pair.ts'
import type { Verdict } from './fleet.ts'

/** A keepalived event and when it was posted. */
export type TimedLbEvent = { readonly state: KeepalivedState; readonly at: string }

export type VantagePoint = { readonly instance: string; readonly state: HealthState; readonly since: string | null; readonly reason: string }

/** Per target: the fleet's verdict, the rule that made it, and every vantage point's own (this instance first). */
export type FleetTargetView = { readonly verdict: HealthState; readonly rule: FleetRule; readonly vantagePoints: readonly VantagePoint[]; readonly summary: string }

/**
 * What this instance publishes for `target`. The reason of a down verdict is the failure that made
 * it down, not the latest probe's: it changes only with the verdict, so publishing costs one etcd
 * write per transition, not one per probe.
 */
export function ownVerdict(target: ProbeTarget, health: TargetHealth): Verdict {
  const wentDown = health.history.findLast((t) => t.to === 'down')
  const reason = health.state === 'unknown' ? 'no verdict yet' : health.state === 'up' ? 'ok' : (wentDown?.reason ?? (health.last && !health.last.ok ? health.last.detail : 'down'))
  return {
    state: health.state,
    since: health.lastChange === undefined ? null : new Date(health.lastChange).toISOString(),
    reason,
    target: { kind: target.kind, address: target.address, site: target.site, node: target.node },
  }
}

/**
 * Each target's health as the fleet sees it: the prober's record with its state replaced by the
 * rule's verdict over this instance and every peer that published one (rise/fall already applied
 * at each vantage point). `keyOf` names a target as peers publish it.
 */
export function fleetHealth(
  targets: readonly ProbeTarget[],
  own: ReadonlyMap<string, TargetHealth>,
  peers: ReadonlyMap<string, ReadonlyMap<string, Verdict>>,
  rule: FleetRule,
  self: string,
  keyOf: (target: ProbeTarget) => string,
): { readonly health: Map<string, TargetHealth>; readonly views: Map<string, FleetTargetView> } {
  const health = new Map<string, TargetHealth>()
  const views = new Map<string, FleetTargetView>()
  for (const target of targets) {
    const mine = own.get(target.id) ?? INITIAL_HEALTH
    const points: VantagePoint[] = [{ instance: self, ...pick(ownVerdict(target, mine)) }]
    for (const [instance, verdict] of [...(peers.get(keyOf(target)) ?? new Map<string, Verdict>())].sort(([a], [b]) => a.localeCompare(b))) points.push({ instance, ...pick(verdict) })
    const verdict = fleetVerdict(rule, points.map((p) => p.state))
    health.set(target.id, verdict === mine.state ? mine : { ...mine, state: verdict })
    views.set(target.id, { verdict, rule, vantagePoints: points, summary: summarize(points, verdict) })
  }
  return { health, views }
}

function pick(verdict: Verdict): Omit<VantagePoint, 'instance'> {
  return { state: verdict.state, since: verdict.since, reason: verdict.reason }
}

/** "down at ns1: connect refused; up at ns2, ns3 → fleet: up" */
export function summarize(points: readonly VantagePoint[], verdict: HealthState): string {
  const groups = new Map<string, string[]>()
  for (const p of points) {
    const label = p.state === 'down' ? `down at ${p.instance}: ${p.reason}` : p.state
    const key = p.state === 'down' ? label : p.state
    groups.set(key, [...(groups.get(key) ?? []), p.instance])
  }
  // The down ones first: they are why an operator reads this.
  const parts = [...groups].sort(([a], [b]) => Number(b.startsWith('down at')) - Number(a.startsWith('down at'))).map(([key, instances]) => (key.startsWith('down at') ? key : `${key} at ${instances.join(', ')}`))
  return `${parts.join('; ')} → fleet: ${verdict}`
}

/** Each LB node's latest keepalived state, whether it was posted here or to another instance (the newer wins). */
export function latestLbEvents(own: ReadonlyMap<string, TimedLbEvent>, shared: ReadonlyMap<string, TimedLbEvent>): Map<string, KeepalivedState> {
  const latest = new Map(own)
  for (const [key, event] of shared) {
    const mine = latest.get(key)
    if (!mine || mine.at < event.at) latest.set(key, event)
  }
  return new Map([...latest].map(([key, e]) => [key, e.state]))
}
