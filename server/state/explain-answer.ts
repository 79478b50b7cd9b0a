// Why a client gets the answer it gets (`GET /v1/explain`): the question is put to the same pure
// functions a query goes through (decode, answer, locateClient, eligibility, nearestSite), on the
// snapshot being served, and each step's outcome is returned as data. Nothing is computed a second
// way, so the explanation cannot drift from the answers.

import ipaddr from 'ipaddr.js'
import { nameKey, parseName } from '../dns/name.ts'
import type { AnswerPlan } from '../dns/plan.ts'
import { RRType, Rcode } from '../dns/types.ts'
import { decodeQuery } from '../dns/wire/decode.ts'
import { encodeQuery } from '../dns/wire/query.ts'
import { distanceKm } from '../geo/distance.ts'
import { locateClient } from '../geo/client-location.ts'
import { effectiveAdminState, effectiveWeight, eligibility } from '../gslb/eligibility.ts'
import type { Server } from '../gslb/types.ts'
import { answer } from '../query/answer.ts'
import type { Snapshot } from '../query/snapshot.ts'
import type { AdminFile, AdminRecord } from './admin-state.ts'
import type { ProbeView } from './explain.ts'

export type ExplainRequest = { readonly name: string; readonly type: 'A' | 'AAAA'; readonly client: string; readonly ecs?: string | undefined }

export type ExplainResult = { readonly ok: true; readonly explanation: Record<string, unknown> } | { readonly ok: false; readonly status: 400 | 404; readonly message: string }

const RCODES: Record<number, string> = { [Rcode.NOERROR]: 'NOERROR', [Rcode.SERVFAIL]: 'SERVFAIL', [Rcode.NXDOMAIN]: 'NXDOMAIN', [Rcode.REFUSED]: 'REFUSED' }

/** `probes`: what the checker last saw of each target; `admin`: the operator records (who, why, until). */
export function explainAnswer(snapshot: Snapshot, probes: readonly ProbeView[], admin: AdminFile, request: ExplainRequest): ExplainResult {
  const wire = parseName(request.name.endsWith('.') ? request.name : `${request.name}.`, undefined)
  if (!wire.ok) return { ok: false, status: 400, message: `name: ${wire.message}` }
  if (!ipaddr.isValid(request.client)) return { ok: false, status: 400, message: `client '${request.client}' is not an IP address` }
  let subnet: { family: 1 | 2; sourcePrefix: number; address: Uint8Array } | undefined
  if (request.ecs !== undefined) {
    if (!ipaddr.isValidCIDR(request.ecs)) return { ok: false, status: 400, message: `ecs '${request.ecs}' is not a network (81.2.69.0/24)` }
    const [address, prefix] = ipaddr.parseCIDR(request.ecs)
    subnet = { family: address.kind() === 'ipv4' ? 1 : 2, sourcePrefix: prefix, address: Uint8Array.from(address.toByteArray()) }
  }
  const gslbName = snapshot.gslb.config.names.find((n) => n.key === nameKey(wire.wire))
  if (!gslbName) return { ok: false, status: 404, message: `'${request.name}' is no GSLB name` }
  const qtype = request.type === 'A' ? RRType.A : RRType.AAAA
  const query = decodeQuery(encodeQuery(wire.wire, qtype, subnet))
  if (query.kind !== 'query') return { ok: false, status: 400, message: 'the question does not make a valid query' }

  // The answer path itself, for this client; turn 0 is the first entry of a rotation.
  const client = { address: ipaddr.process(request.client).toString(), port: 0 }
  const result = answer(query, client, snapshot, 0)
  const table = result.table
  const family = request.type === 'A' ? 4 : 6
  const located = snapshot.geo ? locateClient(snapshot.geo, query.edns?.clientSubnet, query.packet, client.address) : undefined
  // As locateClient decides: the subnet, unless it is absent or /0 (RFC 7871 §7.1.2).
  const byEcs = subnet !== undefined && subnet.sourcePrefix > 0
  const probeOf = new Map(probes.flatMap((p) => (p.target.kind === 'server' ? [[p.target.address, p.health] as const] : [])))
  const { health, load } = snapshot.gslb
  const adminOf = snapshot.gslb.admin

  const why = (server: Server): string => {
    const own = admin.servers[server.address]
    const site = admin.sites[server.site]
    const by = (record: AdminRecord | undefined, what: string): string => (record ? `${what} by ${record.actor} because "${record.reason}"${record.until ? ` until ${record.until}` : ''}` : what)
    const state = effectiveAdminState(server, adminOf)
    const record = own && own.state === state ? own : site && site.state === state ? site : undefined
    if (state === 'disabled') return by(record, 'disabled')
    if (state === 'drain') return by(record, 'drained')
    if (state === 'up') return by(record, 'forced up')
    const probe = probeOf.get(server.address)
    if (health.get(server.address) === 'down') return `down since ${probe?.lastChange ?? '?'}${probe?.last && 'detail' in probe.last ? ` (last probe: ${probe.last.detail})` : ''}`
    return health.get(server.address) === 'up' ? 'healthy' : 'not probed (no check): counted as up'
  }
  const weightOf = (s: Server): number => effectiveWeight(s, gslbName.weights.get(s.site) ?? 1, adminOf)
  const serverLines = gslbName.servers.filter((s) => s.family === family).map((s) => ({
    address: s.address,
    site: s.site,
    eligibility: eligibility(s, health, adminOf),
    why: why(s),
    weight: weightOf(s),
    ...(table?.shed.includes(s.site) ? { shed: `site ${s.site} sheds load (utilisation ${load.sites.get(s.site)?.toFixed(2) ?? '?'})` } : {}),
  }))

  const step = ((): Record<string, unknown> => {
    if (!table) return { step: `no ${request.type} servers: NODATA` }
    const from = { reason: table.reason, servers: table.servers.map((s) => s.address) }
    switch (table.kind) {
      case 'fixed':
        return { ...from, step: table.reason === 'servfail' ? 'nothing eligible: SERVFAIL (when_down)' : 'nothing eligible: NODATA (when_down)' }
      case 'rotation':
        return { ...from, step: `${gslbName.policy.kind}: a rotation of ${table.plans.length} answer(s), each query takes the next`, rotation: table.plans.map(addressesOf) }
      case 'nearest': {
        const location = located?.location
        const distances = location ? table.sites.map((site) => ({ site: site.site, km: site.location ? Math.round(distanceKm(location, site.location)) : null, weight: site.weight })) : []
        const chosen = table.sites.find((site) => site.plans.includes(result.plan))
        return { ...from, step: chosen ? `nearest: site ${chosen.site}` : 'nearest: the client could not be located, so every eligible site by weight', sites: distances }
      }
    }
  })()

  return {
    ok: true,
    explanation: {
      name: gslbName.fqdn,
      type: request.type,
      policy: gslbName.policy.kind,
      located: byEcs ? { by: 'EDNS Client Subnet', address: request.ecs } : { by: 'source address', address: client.address },
      geoip: snapshot.geo
        ? located?.location
          ? { network: networkOf(byEcs ? (request.ecs as string).split('/')[0] as string : client.address, located.prefixLength), ...located.location }
          : { network: null, note: 'not in the GeoIP database' }
        : { network: null, note: 'no GeoIP database configured' },
      ecsScope: result.scope,
      servers: serverLines,
      choice: step,
      answer: { rcode: RCODES[result.plan.rcode] ?? String(result.plan.rcode), ttl: gslbName.ttl, addresses: addressesOf(result.plan) },
    },
  }
}

/** The addresses an answer plan holds, in its order. */
function addressesOf(plan: AnswerPlan): string[] {
  return plan.answer.flatMap((ref) => ref.rrset.records.map((r) => ipaddr.fromByteArray(Array.from(r.plain.subarray(10))).toString()))
}

function networkOf(address: string, prefixLength: number): string {
  const parsed = ipaddr.process(address)
  if (parsed.kind() === 'ipv6') return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed}/${prefixLength}`)}/${prefixLength}`
  // An IPv4 address found in an IPv6 tree has its network's length counted from the mapped prefix.
  const bits = prefixLength > 32 ? prefixLength - 96 : prefixLength
  return `${ipaddr.IPv4.networkAddressFromCIDR(`${parsed}/${bits}`)}/${bits}`
}
