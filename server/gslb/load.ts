// Load decides with health and the operator, never over them, pure. `scale`: a server's weight
// times its site's headroom (1 − utilisation), never below `floor` of it, so a busy site keeps
// some share. `shed`: a site above `shed_above` takes no new clients until it is below
// `return_below` (the gap is hysteresis: a site at the watermark does not flap); the table drops
// shedding sites only while some eligible site is not shedding, and never a server forced `up`.
// An unknown utilisation (no reading, or a stale one) is neither 0 nor 1: the site answers as it
// would without load (its configured weight; not shedding). A failed read is not unknown yet: the
// last good reading counts until it is stale (state/load-view.ts), so one lost read never flaps.

import type { LoadView, NameLoad } from './types.ts'

export const DEFAULT_SHED_ABOVE = 0.9
export const DEFAULT_RETURN_BELOW = 0.75
export const DEFAULT_FLOOR = 0.1

export const NO_LOAD: LoadView = Object.freeze({ sites: new Map(), shedding: new Map() })

/** The weight a server answers with under `scale`: its weight × max(floor, 1 − utilisation). */
export function scaledWeight(weight: number, utilisation: number | undefined, floor: number): number {
  if (utilisation === undefined) return weight
  return weight * Math.max(floor, 1 - Math.min(1, Math.max(0, utilisation)))
}

/** Which of `sites` shed after the readings in `utilisation`, given which shed before. */
export function nextShedding(previous: ReadonlySet<string>, sites: Iterable<string>, utilisation: ReadonlyMap<string, number>, policy: Extract<NameLoad, { mode: 'shed' }>): Set<string> {
  const next = new Set<string>()
  for (const site of sites) {
    const u = utilisation.get(site)
    const was = previous.has(site)
    // Unknown: as without load. Between the watermarks: what was. Beyond them: they decide.
    if (u !== undefined && (u > policy.shedAbove || (was && u >= policy.returnBelow))) next.add(site)
  }
  return next
}

export function sameLoad(a: LoadView, b: LoadView): boolean {
  if (a.sites.size !== b.sites.size || a.shedding.size !== b.shedding.size) return false
  for (const [site, u] of a.sites) if (b.sites.get(site) !== u) return false
  for (const [name, set] of a.shedding) {
    const other = b.shedding.get(name)
    if (!other || other.size !== set.size || [...set].some((s) => !other.has(s))) return false
  }
  return true
}
