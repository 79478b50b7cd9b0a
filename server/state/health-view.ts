// Probe verdicts and keepalived events → the HealthView GSLB tables read, and the per-site view
// operators see. Pure.

import type { HealthView, Site } from '../gslb/types.ts'
import { pairStatus, type KeepalivedState, type PairStatus } from '../health/lb-pair.ts'
import { INITIAL_HEALTH, type HealthState, type ProbeTarget, type TargetHealth } from '../health/types.ts'

/** keepalived states by `site/node`. */
export type LbEvents = ReadonlyMap<string, KeepalivedState>

/** Probe state of every LB node, by `site/node`: built once, so a view over many sites stays linear. */
export function lbNodeProbes(targets: readonly ProbeTarget[], health: ReadonlyMap<string, TargetHealth>): Map<string, HealthState> {
  return new Map(targets.flatMap((t) => (t.kind === 'lb-node' ? [[`${t.site}/${t.node}`, (health.get(t.id) ?? INITIAL_HEALTH).state] as const] : [])))
}

export function siteStatus(site: Site, nodeProbes: ReadonlyMap<string, HealthState>, lbEvents: LbEvents): PairStatus {
  return pairStatus(site.lbPair.map((node) => {
    const key = `${site.name}/${node.name}`
    return { name: node.name, address: node.address, probe: nodeProbes.get(key) ?? 'unknown', keepalived: lbEvents.get(key) }
  }))
}

export function healthView(targets: readonly ProbeTarget[], health: ReadonlyMap<string, TargetHealth>, lbEvents: LbEvents, sites: ReadonlyMap<string, Site>): HealthView {
  const view = new Map<string, 'up' | 'down'>()
  for (const target of targets) {
    if (target.kind !== 'server') continue
    const state = health.get(target.id)?.state
    if (state === 'down') view.set(target.address, 'down')
    else if (state === 'up' && !view.has(target.address)) view.set(target.address, 'up')
  }
  // A pair whose every node is in FAULT/STOP holds no VIP: its site is down now, without waiting for `fall`.
  const nodeProbes = lbNodeProbes(targets, health)
  for (const site of sites.values()) {
    if (site.lbPair.length > 0 && siteStatus(site, nodeProbes, lbEvents).down) for (const vip of site.vips) view.set(vip, 'down')
  }
  return view
}
