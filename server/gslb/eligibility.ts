// Health and admin state → may this server be answered? Forced beats real (gdnsd): an operator's
// `disabled`, `drain` or `up` wins over what the checker says; `enabled` lets health decide.

import type { AdminStateName } from '../config/schema.ts'
import type { AdminView, Eligibility, HealthView, Server } from './types.ts'

const strength: Record<AdminStateName, number> = { disabled: 3, drain: 2, up: 1, enabled: 0 }

/** The state in force for a server: the stronger of its own and its site's (disabled > drain > up > enabled). */
export function effectiveAdminState(server: Server, admin: AdminView): AdminStateName {
  const own = admin.servers.get(server.address)?.state ?? 'enabled'
  const site = admin.sites.get(server.site)?.state ?? 'enabled'
  return strength[own] >= strength[site] ? own : site
}

export function eligibility(server: Server, health: HealthView, admin: AdminView): Eligibility {
  switch (effectiveAdminState(server, admin)) {
    case 'disabled':
      return 'out'
    case 'drain':
      return 'drain'
    case 'up':
      return 'in'
    case 'enabled':
      return health.get(server.address) === 'down' ? 'out' : 'in'
  }
}

/** Weight in force: the server's admin weight, else its site's admin weight, else the configured one. */
export function effectiveWeight(server: Server, configured: number, admin: AdminView): number {
  return admin.servers.get(server.address)?.weight ?? admin.sites.get(server.site)?.weight ?? configured
}
