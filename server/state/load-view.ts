// Readings → the LoadView the answers use, and what changed, decided without I/O. A site's
// utilisation counts while its last good reading is at most STALE_INTERVALS intervals old; older
// or none is unknown (left out: it changes nothing). Shedding moves by gslb/load.ts nextShedding,
// from the previous view, for every name in shed mode.

import { nextShedding } from '../gslb/load.ts'
import type { GslbName, LoadView } from '../gslb/types.ts'
import type { SiteReadings } from '../load/poller.ts'
import { STALE_INTERVALS } from '../load/targets.ts'
import type { LoadTarget } from '../load/types.ts'
import type { SiteLoadStatus } from './explain.ts'

/** A site starting or stopping to shed for a name. */
export type ShedChange = { readonly name: string; readonly site: string; readonly shedding: boolean; readonly utilisation: number | undefined }

export function freshUtilisation(target: LoadTarget, readings: SiteReadings | undefined, now: number): number | undefined {
  const good = readings?.good
  return good && now - good.at <= STALE_INTERVALS * target.intervalMs ? good.utilisation : undefined
}

export function loadView(names: readonly GslbName[], targets: readonly LoadTarget[], readings: ReadonlyMap<string, SiteReadings>, previous: LoadView, now: number): { readonly view: LoadView; readonly changes: readonly ShedChange[] } {
  const sites = new Map<string, number>()
  for (const target of targets) {
    const u = freshUtilisation(target, readings.get(target.site), now)
    if (u !== undefined) sites.set(target.site, u)
  }
  const shedding = new Map<string, ReadonlySet<string>>()
  const changes: ShedChange[] = []
  for (const name of names) {
    if (name.load.mode !== 'shed') continue
    const before = previous.shedding.get(name.key) ?? new Set<string>()
    const after = nextShedding(before, new Set(name.servers.map((s) => s.site)), sites, name.load)
    for (const site of after) if (!before.has(site)) changes.push({ name: name.fqdn, site, shedding: true, utilisation: sites.get(site) })
    for (const site of before) if (!after.has(site)) changes.push({ name: name.fqdn, site, shedding: false, utilisation: sites.get(site) })
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
