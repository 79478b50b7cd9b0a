// The guard rail on operator writes: which GSLB names an admin change would leave with no server
// to answer, where they had one. Pure; the control plane refuses such a write (409) unless forced.

import { eligibility } from './eligibility.ts'
import type { AdminView, GslbName, HealthView } from './types.ts'

/**
 * `name family` for each GSLB name and address family that has an eligible server ('in': enabled
 * and up, or forced up) under `before` and none under `after`: every server disabled, down, or
 * drained (a drained server finishes its clients; it takes no new ones).
 */
export function namesLeftWithout(names: readonly GslbName[], health: HealthView, before: AdminView, after: AdminView): string[] {
  const broken: string[] = []
  for (const name of names) {
    for (const family of [4, 6] as const) {
      const servers = name.servers.filter((s) => s.family === family)
      if (servers.length === 0) continue
      const answerable = (admin: AdminView): boolean => servers.some((s) => eligibility(s, health, admin) === 'in')
      if (answerable(before) && !answerable(after)) broken.push(`${name.fqdn} ${family === 4 ? 'A' : 'AAAA'}`)
    }
  }
  return broken
}
