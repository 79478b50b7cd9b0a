// Probe verdicts and keepalived events → the HealthView GSLB tables read, and the per-site view
// operators see. Pure.

import type { HealthView, Site } from '../gslb/types.ts'
import { pairStatus, type KeepalivedState, type PairStatus } from './lb-pair.ts'
import { INITIAL_HEALTH, type ProbeTarget, type TargetHealth } from './types.ts'

/** keepalived states by `site/node`. */
export type LbEvents = ReadonlyMap<string, KeepalivedState>

export function siteStatus(site: Site, targets: readonly ProbeTarget[], health: ReadonlyMap<string, TargetHealth>, lbEvents: LbEvents): PairStatus {
  return pairStatus(site.lbPair.map((node) => {
    const target = targets.find((t) => t.kind === 'lb-node' && t.site === site.name && t.node === node.name)
    return { name: node.name, address: node.address, probe: target ? (health.get(target.id) ?? INITIAL_HEALTH).state : 'unknown', keepalived: lbEvents.get(`${site.name}/${node.name}`) }
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
  for (const site of sites.values()) {
    if (site.lbPair.length > 0 && siteStatus(site, targets, health, lbEvents).down) for (const vip of site.vips) view.set(vip, 'down')
  }
  return view
}
