// What share of a population of clients a family table sends to each site: the question a
// what-if (`POST /v1/simulate`) asks before and after a change. Pure; it picks as a query does
// (nearestFor for `nearest`, every plan of a rotation in turn) and counts the site of each
// answer's first address, the one clients use.

import type { AnswerPlan } from '../dns/plan.ts'
import type { PopulationGroup } from '../geo/population.ts'
import { nearestFor } from './nearest.ts'
import { planServers, type FamilyTable } from './tables.ts'
import type { GslbName, PickReason } from './types.ts'

/** Share (0-1) of answers per site, by the site of their first address. */
export type SiteShares = Readonly<Record<string, number>>

export type Shares = {
  readonly mode: PickReason
  readonly world: SiteShares
  /** By continent and by country code ('--' where the database gives none). */
  readonly continents: Readonly<Record<string, SiteShares>>
  readonly countries: Readonly<Record<string, SiteShares>>
}

/** `groups` empty (no GeoIP database): one client nowhere in particular, so `nearest` answers as unlocated. */
export function answerShares(name: GslbName, table: FamilyTable, groups: readonly PopulationGroup[]): Shares {
  if (table.kind === 'fixed') return { mode: table.reason, world: {}, continents: {}, countries: {} }
  const siteOf = new Map(name.servers.map((s) => [s.address, s.site]))
  const ofPlans = (plans: readonly AnswerPlan[]): SiteShares => {
    const counts: Record<string, number> = {}
    for (const plan of plans) {
      const site = siteOf.get(planServers(plan)?.[0] ?? '') ?? '?'
      counts[site] = (counts[site] ?? 0) + 1 / plans.length
    }
    return counts
  }
  if (table.kind === 'rotation' || groups.length === 0) {
    const shares = rounded(ofPlans(table.kind === 'rotation' ? table.plans : table.unlocated))
    return { mode: table.reason, world: shares, ...regions(groups, () => shares) }
  }
  // Groups that go to the same site share its plans: counted once per site, not once per group.
  const ofSite = new Map<readonly AnswerPlan[], SiteShares>()
  const sharesAt = new Map<PopulationGroup, SiteShares>()
  for (const group of groups) {
    const plans = nearestFor(table, group.location)?.plans ?? table.unlocated
    let shares = ofSite.get(plans)
    if (!shares) ofSite.set(plans, (shares = ofPlans(plans)))
    sharesAt.set(group, shares)
  }
  const of = (group: PopulationGroup): SiteShares => sharesAt.get(group) ?? {}
  return { mode: table.reason, world: rounded(weighted(groups, of)), ...regions(groups, of) }
}

function regions(groups: readonly PopulationGroup[], of: (group: PopulationGroup) => SiteShares): Pick<Shares, 'continents' | 'countries'> {
  const by = (key: (group: PopulationGroup) => string): Record<string, SiteShares> => {
    const members = new Map<string, PopulationGroup[]>()
    for (const group of groups) {
      const list = members.get(key(group))
      if (list) list.push(group)
      else members.set(key(group), [group])
    }
    return Object.fromEntries([...members].sort(([a], [b]) => a.localeCompare(b)).map(([region, list]) => [region, rounded(weighted(list, of))]))
  }
  return { continents: by((g) => g.location.continent ?? '--'), countries: by((g) => g.location.country ?? '--') }
}

/** The groups' shares averaged by their numbers of addresses. */
function weighted(groups: readonly PopulationGroup[], of: (group: PopulationGroup) => SiteShares): Record<string, number> {
  const total = groups.reduce((sum, g) => sum + g.addresses, 0)
  const sums: Record<string, number> = {}
  for (const group of groups) for (const [site, share] of Object.entries(of(group))) sums[site] = (sums[site] ?? 0) + (share * group.addresses) / total
  return sums
}

/** Four decimals, sites in name order: what a reader compares. */
function rounded(shares: Record<string, number>): SiteShares {
  return Object.fromEntries(Object.entries(shares).sort(([a], [b]) => a.localeCompare(b)).map(([site, share]) => [site, Math.round(share * 10_000) / 10_000]))
}
