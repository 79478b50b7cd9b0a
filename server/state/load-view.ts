// Readings → the LoadView the answers use, and what changed, decided without I/O. A site's
// utilisation counts while its last good reading is at most STALE_INTERVALS intervals old; older
// or none is unknown. Shedding moves by gslb/load.ts nextShedding, from the previous view, for
// every name in shed mode. The view keeps a utilisation only for sites a `scale` name weighs, and
// in SCALE_STEPS steps: every new view is a new snapshot (tables rebuilt, workers sent it, name
// caches started afresh), so a reading that changes no answer must not make one.

import { nextShedding } from '../gslb/load.ts'
import type { GslbName, LoadView } from '../gslb/types.ts'
import type { SiteReadings } from '../load/poller.ts'
import { STALE_INTERVALS } from '../load/targets.ts'
import type { LoadTarget } from '../load/types.ts'
import type { SiteLoadStatus } from './explain.ts'

/** The utilisation `scale` weighs with is rounded to 1/20ths (5%): 20 steps of headroom are plenty for a weight. */
export const SCALE_STEPS = 20

/** A site starting or stopping to shed for a name. */
export type ShedChange = { readonly name: string; readonly site: string; readonly shedding: boolean; readonly utilisation: number | undefined }

export function freshUtilisation(target: LoadTarget, readings: SiteReadings | undefined, now: number): number | undefined {
  const good = readings?.good
  return good && now - good.at <= STALE_INTERVALS * target.intervalMs ? good.utilisation : undefined
}

export function loadView(names: readonly GslbName[], targets: readonly LoadTarget[], readings: ReadonlyMap<string, SiteReadings>, previous: LoadView, now: number): { readonly view: LoadView; readonly changes: readonly ShedChange[] } {
  const fresh = new Map<string, number>()
  for (const target of targets) {
    const u = freshUtilisation(target, readings.get(target.site), now)
    if (u !== undefined) fresh.set(target.site, u)
  }
  const weighed = new Set(names.filter((n) => n.load.mode === 'scale').flatMap((n) => n.servers.map((s) => s.site)))
  const sites = new Map([...fresh].filter(([site]) => weighed.has(site)).map(([site, u]) => [site, Math.round(u * SCALE_STEPS) / SCALE_STEPS]))
  const shedding = new Map<string, ReadonlySet<string>>()
  const changes: ShedChange[] = []
  for (const name of names) {
    if (name.load.mode !== 'shed') continue
    const before = previous.shedding.get(name.key) ?? new Set<string>()
    const after = nextShedding(before, new Set(name.servers.map((s) => s.site)), fresh, name.load)
    for (const site of after) if (!before.has(site)) changes.push({ name: name.fqdn, site, shedding: true, utilisation: fresh.get(site) })
    for (const site of before) if (!after.has(site)) changes.push({ name: name.fqdn, site, shedding: false, utilisation: fresh.get(site) })
    if (after.size > 0) shedding.set(name.key, after)
  }
  return { view: { sites, shedding }, changes }
}

/** Each site with a load signal, as status shows it. */
export function siteLoads(targets: readonly LoadTarget[], readings: ReadonlyMap<string, SiteReadings>, view: LoadView, names: readonly GslbName[], now: number): Map<string, SiteLoadStatus> {
  return new Map(targets.map((target) => {
    const read = readings.get(target.site)
    const utilisation = freshUtilisation(target, read, now)
    const last = read?.last
    return [target.site, {
      utilisation: utilisation ?? null,
      stale: read?.good !== undefined && utilisation === undefined,
      at: last ? new Date(last.at).toISOString() : null,
      from: last?.from ?? null,
      problem: last && !last.ok ? last.problem : null,
      haproxy: read?.good?.haproxy ?? null,
      shedding: names.filter((n) => view.shedding.get(n.key)?.has(target.site)).map((n) => n.fqdn),
    }]
  }))
}
