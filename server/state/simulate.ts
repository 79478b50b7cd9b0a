// What-if (`POST /v1/simulate`): what each GSLB name would answer, and to whom, after hypothetical
// operator changes and health verdicts. The admin changes are decided by decideAdminChange (as a
// write would be, guard rail included), the tables built by buildNameTables and the answers shared
// out by answerShares over the GeoIP database's IPv4 address space: the functions the query path
// uses, on copies. Nothing is kept or published.

import { parseServerAddress } from '../common/address.ts'
import type { AdminStateName } from '../config/schema.ts'
import type { Population } from '../geo/population.ts'
import { namesLeftWithout } from '../gslb/guard.ts'
import { answerShares, type Shares, type SiteShares } from '../gslb/shares.ts'
import { buildNameTables, type FamilyTable } from '../gslb/tables.ts'
import type { PickReason } from '../gslb/types.ts'
import type { Snapshot } from '../query/snapshot.ts'
import { adminView, decideAdminChange, type AdminFile, type AdminTarget } from './admin-state.ts'

/** One hypothetical change: `target` is `site:NAME` or a server address; an admin state and/or weight, a cleared override, or a health verdict. */
export type WhatIf = {
  readonly target: string
  readonly state?: AdminStateName
  readonly weight?: number
  readonly clear?: 'state' | 'weight' | 'all'
  readonly health?: 'up' | 'down'
}

export type SimulateResult = { readonly ok: true; readonly simulation: Record<string, unknown> } | { readonly ok: false; readonly status: 400 | 404; readonly message: string }

/** Reasons a name answers without a healthy server. */
const DEGRADED: readonly PickReason[] = ['drain-only', 'fail-open', 'fallback', 'nodata', 'servfail']

/** `population` undefined: no GeoIP database, so there is one client, nowhere in particular. */
export function simulateChanges(snapshot: Snapshot, admin: AdminFile, population: Population | undefined, changes: readonly WhatIf[], at: string): SimulateResult {
  const { config, health, load } = snapshot.gslb
  let file = admin
  const hypothetical = new Map(health)
  for (const [index, change] of changes.entries()) {
    const where = `changes[${index}] (${change.target})`
    const target: AdminTarget = change.target.startsWith('site:') ? { kind: 'site', site: change.target.slice(5) } : { kind: 'server', address: change.target }
    if (change.health !== undefined) {
      if (change.state !== undefined || change.weight !== undefined || change.clear !== undefined) return { ok: false, status: 400, message: `${where}: a change sets health, or admin state and weight, not both` }
      const addresses = healthTargets(snapshot, target)
      if (!addresses.ok) return { ok: false, status: addresses.status, message: `${where}: ${addresses.message}` }
      for (const address of addresses.addresses) hypothetical.set(address, change.health)
      continue
    }
    if (change.state === undefined && change.weight === undefined && change.clear === undefined) return { ok: false, status: 400, message: `${where}: say what changes: state, weight, clear or health` }
    const decided = decideAdminChange(file, config, health, target, { ...change, reason: 'what-if', force: true }, 'what-if', at)
    if (!decided.ok) return { ok: false, status: decided.status === 400 ? 400 : 404, message: `${where}: ${decided.message}` }
    file = decided.next
  }
  const before = snapshot.gslb.admin
  const after = adminView(file)
  const groups = population?.groups ?? []
  const falls: { name: string; type: string; from: PickReason; to: PickReason }[] = []
  const names = config.names.map((name) => {
    const now = snapshot.gslb.tables.get(name.key)
    const next = buildNameTables(name, hypothetical, after, load)
    const families = Object.fromEntries((['v4', 'v6'] as const).flatMap((family) => {
      const [was, will] = [now?.[family], next[family]]
      if (!was || !will) return []
      const type = family === 'v4' ? 'A' : 'AAAA'
      const [from, to] = [answerShares(name, was, groups), answerShares(name, will, groups)]
      if (from.mode !== to.mode && DEGRADED.includes(to.mode)) falls.push({ name: name.fqdn, type, from: from.mode, to: to.mode })
      return [[type, compare(from, to, will)]]
    }))
    return { name: name.fqdn, policy: name.policy.kind, ...families }
  })
  // What the writes would meet: the guard rail under today's health, as PUT would check it.
  const refused = namesLeftWithout(config.names, health, before, after)
  return {
    ok: true,
    simulation: {
      population: population
        ? { by: 'IPv4 address space of the GeoIP database', networks: population.networks, addresses: population.addresses }
        : { by: 'none: no GeoIP database, so nearest names answer as for a client that cannot be located', networks: 0, addresses: 0 },
      guard: refused.length > 0 ? { refused: true, names: refused, note: 'these writes need "force": true' } : { refused: false, names: [] },
      falls,
      names,
    },
  }
}

/** Before and after, with the countries whose shares change (all of them would be long for a full database). */
function compare(from: Shares, to: Shares, table: FamilyTable): Record<string, unknown> {
  const countries = Object.fromEntries([...new Set([...Object.keys(from.countries), ...Object.keys(to.countries)])].sort().flatMap((country) => {
    const [was, will] = [from.countries[country] ?? {}, to.countries[country] ?? {}]
    return same(was, will) ? [] : [[country, { before: was, after: will }]]
  }))
  return {
    changed: from.mode !== to.mode || !same(from.world, to.world),
    before: { mode: from.mode, world: from.world, continents: from.continents },
    after: { mode: to.mode, world: to.world, continents: to.continents, servers: table.servers.map((s) => s.address) },
    countries,
  }
}

function same(a: SiteShares, b: SiteShares): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].every((k) => a[k] === b[k])
}

/** The VIPs a health verdict is for: a server address, or every VIP of a site. */
function healthTargets(snapshot: Snapshot, target: AdminTarget): { ok: true; addresses: readonly string[] } | { ok: false; status: 400 | 404; message: string } {
  const sites = snapshot.gslb.config.sites
  if (target.kind === 'site') {
    const site = sites.get(target.site)
    return site ? { ok: true, addresses: site.vips } : { ok: false, status: 404, message: `no site named '${target.site}'` }
  }
  const parsed = parseServerAddress(target.address)
  if (!parsed.ok) return { ok: false, status: 400, message: parsed.message }
  const known = [...sites.values()].some((s) => s.vips.includes(parsed.address))
  return known ? { ok: true, addresses: [parsed.address] } : { ok: false, status: 404, message: `no server (site VIP) with address '${parsed.address}'` }
}
