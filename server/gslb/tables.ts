// Eligibility turned into ready answers. For each GSLB name and address family, every answer the
// name can give under the current health and admin state is built when a snapshot is: a rotation
// of plans indexed by the query counter (weighted, all, failover), or a rotation per site (nearest).
// A query then only picks an entry.

import { AT_QNAME, makePlan, rcodePlan, type AnswerPlan } from '../dns/plan.ts'
import { Rcode } from '../dns/types.ts'
import type { Location } from '../geo/location.ts'
import { effectiveAdminState, effectiveWeight, eligibility } from './eligibility.ts'
import { NO_LOAD, scaledWeight } from './load.ts'
import { smoothWeightedOrder } from './weighted.ts'
import type { AdminView, Family, GslbName, HealthView, LoadView, PickReason, Server } from './types.ts'

export type NearestSite = { readonly site: string; readonly location: Location | undefined; readonly weight: number; readonly plans: readonly AnswerPlan[] }

/** What every table says of itself: why it answers what it does, from which servers, and which sites load left out (shed). */
type TableBase = { readonly reason: PickReason; readonly servers: readonly Server[]; readonly shed: readonly string[] }

export type FamilyTable =
  | (TableBase & { readonly kind: 'rotation'; readonly plans: readonly AnswerPlan[] })
  | (TableBase & {
      readonly kind: 'nearest'
      readonly sites: readonly NearestSite[]
      readonly unlocated: readonly AnswerPlan[]
      /** Nearest site per client Location (the GeoIP cache hands out the same object per address): a memo, not state. */
      readonly memo: WeakMap<Location, NearestSite | null>
    })
  | (TableBase & { readonly kind: 'fixed'; readonly plan: AnswerPlan })

export type NameTables = { readonly name: GslbName; readonly v4: FamilyTable | undefined; readonly v6: FamilyTable | undefined }

const SERVFAIL = rcodePlan(Rcode.SERVFAIL)

/** `load` defaults to none known (what a name answers without load readings). */
export function buildNameTables(name: GslbName, health: HealthView, admin: AdminView, load: LoadView = NO_LOAD): NameTables {
  return Object.freeze({ name, v4: familyTable(name, 4, health, admin, load), v6: familyTable(name, 6, health, admin, load) })
}

/**
 * The set of servers to answer from and why; the nothing-eligible branch is the name's
 * `when_down`. In shed mode the eligible servers of shedding sites are left out, unless that
 * leaves none (every eligible site is busy: all share the load) or the operator forced them `up`.
 */
function answerSet(name: GslbName, family: Family, health: HealthView, admin: AdminView, load: LoadView): { reason: PickReason; servers: readonly Server[]; shed: readonly string[] } {
  const servers = name.servers.filter((s) => s.family === family)
  const verdicts = servers.map((s) => eligibility(s, health, admin))
  const where = (wanted: string): Server[] => servers.filter((_, i) => verdicts[i] === wanted)
  const eligible = where('in')
  const shedding = name.load.mode === 'shed' ? load.shedding.get(name.key) : undefined
  if (shedding && shedding.size > 0) {
    const kept = eligible.filter((s) => !shedding.has(s.site) || effectiveAdminState(s, admin) === 'up')
    if (kept.length > 0 && kept.length < eligible.length) return { reason: 'healthy', servers: kept, shed: [...new Set(eligible.filter((s) => !kept.includes(s)).map((s) => s.site))] }
  }
  if (eligible.length > 0) return { reason: 'healthy', servers: eligible, shed: [] }
  const draining = where('drain')
  if (draining.length > 0) return { reason: 'drain-only', servers: draining, shed: [] }
  switch (name.whenDown.kind) {
    case 'fail_open': {
      // Everything an operator has not disabled, healthy or not (Route 53 and gdnsd do the same).
      const notDisabled = servers.filter((s) => effectiveAdminState(s, admin) !== 'disabled')
      return notDisabled.length > 0 ? { reason: 'fail-open', servers: notDisabled, shed: [] } : { reason: 'nodata', servers: [], shed: [] }
    }
    case 'nodata':
      return { reason: 'nodata', servers: [], shed: [] }
    case 'servfail':
      return { reason: 'servfail', servers: [], shed: [] }
    case 'fallback': {
      const fallback = name.whenDown.servers.filter((s) => s.family === family)
      return fallback.length > 0 ? { reason: 'fallback', servers: fallback, shed: [] } : { reason: 'nodata', servers: [], shed: [] }
    }
  }
}

function familyTable(name: GslbName, family: Family, health: HealthView, admin: AdminView, load: LoadView): FamilyTable | undefined {
  if (!name.servers.some((s) => s.family === family)) return undefined
  const { reason, servers, shed } = answerSet(name, family, health, admin, load)
  if (reason === 'nodata') return { kind: 'fixed', reason, servers, shed, plan: name.nodata }
  if (reason === 'servfail') return { kind: 'fixed', reason, servers, shed, plan: SERVFAIL }
  const weightOf = weightFor(name, admin, load)
  switch (name.policy.kind) {
    case 'weighted':
      return { kind: 'rotation', reason, servers, shed, plans: weightedPlans(servers, weightOf, name.maxAnswers) }
    case 'all':
      return { kind: 'rotation', reason, servers, shed, plans: rotationPlans(servers, name.maxAnswers) }
    case 'failover': {
      const group = name.policy.groups.map((sites) => servers.filter((s) => sites.includes(s.site))).find((g) => g.length > 0)
      return { kind: 'rotation', reason, servers, shed, plans: rotationPlans(group ?? servers, name.maxAnswers) }
    }
    case 'nearest': {
      const siteNames = [...new Set(servers.map((s) => s.site))]
      const sites = siteNames.map((site): NearestSite => {
        const members = servers.filter((s) => s.site === site)
        return { site, location: name.locations.get(site), weight: Math.max(...members.map(weightOf)), plans: rotationPlans(members, name.maxAnswers) }
      })
      return { kind: 'nearest', reason, servers, shed, sites, unlocated: weightedPlans(servers, weightOf, name.maxAnswers), memo: new WeakMap() }
    }
  }
}

/**
 * Each server's weight in force (operator's, else configured). Under `scale`, times its site's
 * headroom, in hundredths so the smooth weighted order keeps whole steps (it scales a long cycle
 * down itself).
 */
function weightFor(name: GslbName, admin: AdminView, load: LoadView): (s: Server) => number {
  const weightOf = (s: Server): number => effectiveWeight(s, name.weights.get(s.site) ?? 1, admin)
  if (name.load.mode !== 'scale') return weightOf
  const { floor } = name.load
  return (s) => Math.round(100 * scaledWeight(weightOf(s), load.sites.get(s.site), floor))
}

const serversOfPlan = new WeakMap<AnswerPlan, readonly string[]>()

/** The server addresses a GSLB plan answers (for per-server metrics). */
export function planServers(plan: AnswerPlan): readonly string[] | undefined {
  return serversOfPlan.get(plan)
}

function answerPlan(servers: readonly Server[]): AnswerPlan {
  const plan = makePlan(Rcode.NOERROR, servers.map((s) => ({ rrset: s.rrset, owner: AT_QNAME })), [], [])
  serversOfPlan.set(plan, servers.map((s) => s.address))
  return plan
}

/** Plan i answers servers i, i+1, … (wrapping), up to `max`: successive queries rotate the order. */
function rotationPlans(servers: readonly Server[], max: number): AnswerPlan[] {
  const count = Math.min(max, servers.length)
  return servers.map((_, start) => answerPlan(Array.from({ length: count }, (_, k) => servers[(start + k) % servers.length] as Server)))
}

/**
 * Plan i starts at step i of the smooth weighted order and takes the next distinct servers up to
 * `max`, so the first address of successive answers follows the weights. Weight 0 servers are
 * left out unless every server has weight 0.
 */
function weightedPlans(servers: readonly Server[], weightOf: (s: Server) => number, max: number): AnswerPlan[] {
  const weights = servers.map(weightOf)
  const anyPositive = weights.some((w) => w > 0)
  const weighted = anyPositive ? servers.filter((_, i) => (weights[i] as number) > 0) : servers
  const order = smoothWeightedOrder(anyPositive ? weights.filter((w) => w > 0) : weighted.map(() => 1))
  const count = Math.min(max, weighted.length)
  return order.map((_, start) => {
    const picked: Server[] = []
    for (let step = 0; picked.length < count; step++) {
      const server = weighted[order[(start + step) % order.length] as number] as Server
      if (!picked.includes(server)) picked.push(server)
    }
    return answerPlan(picked)
  })
}
