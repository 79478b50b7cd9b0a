// GSLB names as configured, checked against the zones being served: every name must be a node with
// A/AAAA records in a served zone, and every address there must be a VIP of a configured site.
// A problem anywhere rejects the whole configuration (file:line from the config).

import ipaddr from 'ipaddr.js'
import { isIP } from 'node:net'
import type { ConfigLocator } from '../config/load-config.ts'
import type { Config, NameConfig } from '../config/schema.ts'
import { canonicalAddress } from '../common/address.ts'
import type { Problem } from '../common/problem.ts'
import { isSubdomain, nameKey, parseName } from '../dns/name.ts'
import { makePlan, NO_TYPE, type AnswerPlan } from '../dns/plan.ts'
import { RRType, Rcode } from '../dns/types.ts'
import type { Location } from '../geo/location.ts'
import { compileRRset, type CompiledZone } from '../zone/compile.ts'
import { findZone, type ZoneSet } from '../zone/zone-set.ts'
import { DEFAULT_FLOOR, DEFAULT_RETURN_BELOW, DEFAULT_SHED_ABOVE } from './load.ts'
import type { Family, GslbName, NameLoad, Policy, Server, Site, WhenDown } from './types.ts'

const DEFAULT_GSLB_TTL = 30
const DEFAULT_MAX_ANSWERS: Record<Policy['kind'], number> = { weighted: 1, nearest: 8, failover: 8, all: 8 }

export type GslbConfig = { readonly names: readonly GslbName[]; readonly sites: ReadonlyMap<string, Site> }

export type GslbResult = { readonly ok: true; readonly gslb: GslbConfig } | { readonly ok: false; readonly problems: readonly Problem[] }

/**
 * `failedZones`: origins of zone files that did not load. A name in one of them is left out with no
 * problem of its own: the zone's problems say what is wrong, and "in no zone" would mislead.
 */
export function buildGslb(config: Config, zones: ZoneSet, locate: ConfigLocator, failedZones: readonly Uint8Array[] = []): GslbResult {
  const problems: Problem[] = []
  const problem = (path: readonly string[], message: string): void => {
    problems.push({ code: 'config', ...locate(path), message: `${path.join('.')}: ${message}` })
  }

  const sites = new Map<string, Site>()
  const siteOfAddress = new Map<string, string>()
  for (const [name, site] of Object.entries(config.sites ?? {})) {
    for (const vip of site.vips) {
      const canonical = canonicalAddress(vip)
      const other = siteOfAddress.get(canonical)
      if (other) problem(['sites', name, 'vips'], `${vip} is already a VIP of site ${other}`)
      siteOfAddress.set(canonical, name)
    }
    if (site.check !== undefined && !config.checks?.[site.check]) problem(['sites', name, 'check'], `no check named '${site.check}' under checks`)
    const location: Location | undefined = site.location ? { lat: site.location.lat, lon: site.location.lon, country: site.location.country, continent: site.location.continent } : undefined
    sites.set(name, {
      name,
      vips: site.vips.map(canonicalAddress),
      location,
      weight: site.weight ?? 1,
      lbPair: Object.entries(site.lb_pair ?? {}).map(([node, address]) => ({ name: node, address })),
      check: site.check,
    })
  }

  const names: GslbName[] = []
  for (const [fqdn, named] of Object.entries(config.names ?? {})) {
    if (inFailedZone(fqdn, zones, failedZones)) continue
    const built = buildName(fqdn, named, config, zones, sites, siteOfAddress, (field, message) => problem(['names', fqdn, ...field], message))
    if (built) names.push(built)
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, gslb: { names, sites } }
}

/** Whether the name's closest zone is one that failed to load (rather than a loaded parent zone, or none). */
function inFailedZone(fqdn: string, zones: ZoneSet, failedZones: readonly Uint8Array[]): boolean {
  const wire = parseName(fqdn, undefined)
  if (!wire.ok) return false
  const failed = failedZones.filter((origin) => isSubdomain(wire.wire, origin)).reduce((deepest, origin) => Math.max(deepest, origin.length), -1)
  if (failed < 0) return false
  const served = findZone(zones, nameKey(wire.wire))
  return served === undefined || served.origin.length < failed
}

function buildName(fqdn: string, named: NameConfig, config: Config, zones: ZoneSet, sites: ReadonlyMap<string, Site>, siteOfAddress: ReadonlyMap<string, string>, problem: (field: string[], message: string) => void): GslbName | undefined {
  const wire = parseName(fqdn, undefined)
  if (!wire.ok) return void problem([], wire.message)
  const key = nameKey(wire.wire)
  const zone = findZone(zones, key)
  if (!zone) return void problem([], 'is in no zone being served')
  const node = zone.nodes.get(key)
  const ttl = named.ttl ?? DEFAULT_GSLB_TTL
  const addresses = node && !node.referral ? [RRType.A, RRType.AAAA].flatMap((type) => ownAddresses(node.types, node.answers, type)) : []
  if (addresses.length === 0) return void problem([], `has no A or AAAA records of its own in zone file ${zone.file} (GSLB names choose among them)`)

  const servers: Server[] = []
  for (const address of addresses) {
    const site = siteOfAddress.get(address)
    if (!site) problem([], `address ${address} in ${zone.file} belongs to no site (list it under a site's vips)`)
    else servers.push(server(address, site, ttl, wire.wire))
  }
  const siteExists = (field: string[], site: string): boolean => (sites.has(site) ? true : (problem(field, `no site named '${site}'`), false))
  for (const site of Object.keys(named.weights ?? {})) siteExists(['weights', site], site)

  let policy: Policy
  if (named.policy === 'failover') {
    if (!named.order) return void problem(['policy'], "failover needs 'order': the groups of sites, first choice first")
    const groups = named.order.map((g) => (typeof g === 'string' ? [g] : g))
    groups.forEach((g, i) => g.forEach((site) => siteExists(['order', String(i)], site)))
    policy = { kind: 'failover', groups }
  } else {
    if (named.order) problem(['order'], `'order' applies to policy failover only, not ${named.policy}`)
    policy = { kind: named.policy }
  }
  if (policy.kind === 'nearest') {
    if (!config.geoip) problem(['policy'], "nearest needs a GeoIP database: set 'geoip.database'")
    for (const site of new Set(servers.map((s) => s.site))) if (!sites.get(site)?.location) problem(['policy'], `nearest needs a location for site ${site}`)
  }

  let whenDown: WhenDown = { kind: 'fail_open' }
  const mode = named.when_down ?? 'fail_open'
  if (mode !== 'fallback' && named.fallback !== undefined) problem(['fallback'], "'fallback' needs when_down: fallback")
  if (mode === 'nodata') whenDown = { kind: 'nodata' }
  if (mode === 'servfail') whenDown = { kind: 'servfail' }
  if (mode === 'fallback') {
    const target = named.fallback
    if (target === undefined) return void problem(['when_down'], "when_down: fallback needs 'fallback': a site name or an address")
    const site = sites.get(target)
    if (site) whenDown = { kind: 'fallback', servers: site.vips.map((vip) => server(vip, site.name, ttl, wire.wire)) }
    else if (isIP(target)) whenDown = { kind: 'fallback', servers: [server(canonicalAddress(target), '(fallback address)', ttl, wire.wire)] }
    else return void problem(['fallback'], `'${target}' is neither a site nor an IP address`)
  }

  let load: NameLoad = { mode: 'off' }
  if (named.load?.mode === 'scale') load = { mode: 'scale', floor: named.load.floor ?? DEFAULT_FLOOR }
  if (named.load?.mode === 'shed') {
    const shedAbove = named.load.shed_above ?? DEFAULT_SHED_ABOVE
    const returnBelow = named.load.return_below ?? DEFAULT_RETURN_BELOW
    if (returnBelow >= shedAbove) problem(['load', 'return_below'], `must be below shed_above (${shedAbove}): the gap between them keeps a site at the watermark from flapping`)
    load = { mode: 'shed', shedAbove, returnBelow }
  }
  if (named.load && named.load.mode !== 'scale' && named.load.floor !== undefined) problem(['load', 'floor'], "'floor' applies to mode scale only")
  if (named.load && named.load.mode !== 'shed' && (named.load.shed_above !== undefined || named.load.return_below !== undefined)) problem(['load'], "'shed_above' and 'return_below' apply to mode shed only")

  const weights = new Map([...sites.values()].map((s) => [s.name, named.weights?.[s.name] ?? s.weight]))
  const locations = new Map([...sites.values()].flatMap((s) => (s.location ? [[s.name, s.location] as const] : [])))
  return Object.freeze({
    fqdn, key, policy, ttl, whenDown, weights, locations, servers, load,
    maxAnswers: named.max_answers ?? DEFAULT_MAX_ANSWERS[policy.kind],
    nodata: nodataPlan(zone, named.negative_ttl),
  })
}

/** Addresses of the node's own A or AAAA RRset (not reached through a CNAME), canonical text. */
function ownAddresses(types: readonly number[], answers: readonly AnswerPlan[], type: number): string[] {
  const plan = answers[types.indexOf(type)]
  const ref = plan?.answer[0]
  if (!plan || plan.answer.length !== 1 || !ref || ref.rrset.type !== type || ref.owner.kind !== 'qname') return []
  return ref.rrset.records.map((r) => ipaddr.fromByteArray([...r.plain.subarray(10)]).toString())
}

function server(address: string, site: string, ttl: number, owner: Uint8Array): Server {
  const family: Family = isIP(address) === 6 ? 6 : 4
  const rdata = Uint8Array.from(ipaddr.parse(address).toByteArray())
  return { address, family, site, rrset: compileRRset(family === 4 ? RRType.A : RRType.AAAA, ttl, [{ wire: rdata, names: [] }], owner) }
}

/** The zone's NODATA answer, or the same with the SOA at a configured negative TTL. */
function nodataPlan(zone: CompiledZone, negativeTtl: number | undefined): AnswerPlan {
  if (negativeTtl === undefined) return zone.nodata
  const soa = zone.nodata.authority[0]!
  const rdata = (soa.rrset.records[0]!).plain.subarray(10)
  return makePlan(Rcode.NOERROR, [], [{ rrset: compileRRset(RRType.SOA, negativeTtl, [{ wire: rdata, names: [] }], zone.origin), owner: soa.owner }], [], true, false, NO_TYPE)
}
