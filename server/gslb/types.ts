// The GSLB vocabulary (see shared/DESIGN.md): sites with VIPs, servers, policies, admin state.

import type { AdminStateName } from '../config/schema.ts'
import type { AnswerPlan, CompiledRRset } from '../dns/plan.ts'
import type { Location } from '../geo/location.ts'

export type Family = 4 | 6

export type Site = {
  readonly name: string
  readonly vips: readonly string[]
  readonly location: Location | undefined
  readonly weight: number
  readonly lbPair: readonly { readonly name: string; readonly address: string }[]
  readonly check: string | undefined
}

/** One answerable address: a VIP of a site, as it appears in a GSLB name's RRset. */
export type Server = {
  readonly address: string
  readonly family: Family
  readonly site: string
  /** This address as a one-record RRset with the name's TTL, ready to copy into a reply. */
  readonly rrset: CompiledRRset
}

export type Policy =
  | { readonly kind: 'weighted' }
  | { readonly kind: 'failover'; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: 'nearest' }
  | { readonly kind: 'all' }

/** What a name answers when no server is eligible (and none is draining). */
export type WhenDown =
  | { readonly kind: 'fail_open' }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'servfail' }
  | { readonly kind: 'fallback'; readonly servers: readonly Server[] }

/** A GSLB name as configured and checked against its zone; fixed until the next reload. */
export type GslbName = {
  readonly fqdn: string
  readonly key: string
  readonly policy: Policy
  readonly ttl: number
  readonly maxAnswers: number
  readonly whenDown: WhenDown
  /** Per-site weight for this name (name's `weights`, else the site's weight). */
  readonly weights: ReadonlyMap<string, number>
  /** Where each site is, for `nearest`. */
  readonly locations: ReadonlyMap<string, Location>
  readonly servers: readonly Server[]
  /** NODATA with the zone's SOA: for a family with nothing to answer. */
  readonly nodata: AnswerPlan
  /** What the name does with its sites' load (gslb/load.ts). */
  readonly load: NameLoad
}

export type NameLoad =
  | { readonly mode: 'off' }
  /** Weight × max(floor, 1 − utilisation). */
  | { readonly mode: 'scale'; readonly floor: number }
  /** A site above `shedAbove` takes no new clients until it is below `returnBelow` (unless every eligible site sheds). */
  | { readonly mode: 'shed'; readonly shedAbove: number; readonly returnBelow: number }

/**
 * Load as the answers use it: the utilisation (0-1) of the sites a `scale` name weighs, where a
 * fresh reading says it (a site missing here is answered as without load), and per GSLB name key
 * in shed mode, the sites shedding now (decided with hysteresis from one reading to the next:
 * gslb/load.ts nextShedding).
 */
export type LoadView = {
  readonly sites: ReadonlyMap<string, number>
  readonly shedding: ReadonlyMap<string, ReadonlySet<string>>
}

export type AdminEntry = {
  readonly state: AdminStateName
  readonly weight: number | undefined
}

/** Operator overrides by server address and by site name. */
export type AdminView = {
  readonly servers: ReadonlyMap<string, AdminEntry>
  readonly sites: ReadonlyMap<string, AdminEntry>
}

/** Health verdicts by address; an address with no verdict counts as up. */
export type HealthView = ReadonlyMap<string, 'up' | 'down'>

export type Eligibility = 'in' | 'drain' | 'out'

/** Why a name answers what it answers now; shown in logs and status. */
export type PickReason = 'healthy' | 'drain-only' | 'fail-open' | 'fallback' | 'nodata' | 'servfail'
