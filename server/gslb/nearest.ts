// The `nearest` policy's choice at query time: the closest site to the client's location, among
// the sites its family table holds. Pure but for the table's memo, which only saves the walk.

import { distanceKm } from '../geo/distance.ts'
import type { Location } from '../geo/location.ts'
import type { FamilyTable, NearestSite } from './tables.ts'

type NearestTable = Extract<FamilyTable, { kind: 'nearest' }>

/** The nearest site for a client at `location`, worked out once per Location object and table (null: none has a location). */
export function nearestFor(table: NearestTable, location: Location): NearestSite | null {
  let site = table.memo.get(location)
  if (site === undefined) table.memo.set(location, (site = nearestSite(table.sites, location) ?? null))
  return site
}

/** The closest site; a tie goes to the higher weight, then to the first listed. */
export function nearestSite(sites: readonly NearestSite[], client: Location): NearestSite | undefined {
  let best: NearestSite | undefined
  let bestDistance = Infinity
  for (const site of sites) {
    if (!site.location) continue
    const distance = distanceKm(client, site.location)
    if (distance < bestDistance || (distance === bestDistance && best && site.weight > best.weight)) {
      best = site
      bestDistance = distance
    }
  }
  return best
}
