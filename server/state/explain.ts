// Status views, computed from the same tables and eligibility rules the DNS answers use, so "why
// this VIP" never disagrees with what dig sees.

import { effectiveAdminState, effectiveWeight, eligibility } from '../gslb/eligibility.ts'
import { scaledWeight } from '../gslb/load.ts'
import type { Server } from '../gslb/types.ts'
import { lbNodeProbes, siteStatus, type LbEvents } from './health-view.ts'
import type { ProbeTarget, TargetHealth } from '../health/types.ts'
import type { AdminFile } from './admin-state.ts'
import type { Snapshot } from '../query/snapshot.ts'
import type { HaproxyFigures } from '../load/types.ts'
import type { FleetTargetView } from './fleet-health.ts'

/** A target's probe state here and, in a fleet, every vantage point's verdict and the fleet's. */
export type ProbeView = { readonly target: ProbeTarget; readonly health: TargetHealth; readonly fleet?: FleetTargetView | undefined }

/** In a fleet: this instance, its link to etcd, and the rule verdicts are made with. */
export type FleetStatus = { readonly instance: string; readonly connected: boolean; readonly problem: string | null; readonly since: string; readonly rule: string; readonly verdicts: string }

/** A site's load as status shows it: the fresh utilisation (null when unknown), the latest read, and the names it sheds for. */
export type SiteLoadStatus = {
  readonly utilisation: number | null
  readonly stale: boolean
  readonly at: string | null
  readonly from: string | null
  readonly problem: string | null
  readonly haproxy: HaproxyFigures | null
  readonly shedding: readonly string[]
}

export function statusView(snapshot: Snapshot, probes: readonly ProbeView[], lbEvents: LbEvents, admin: AdminFile, loads: ReadonlyMap<string, SiteLoadStatus>, fleet?: FleetStatus) {
  const { config, health, tables } = snapshot.gslb
  const serverProbes = new Map(probes.flatMap((p) => (p.target.kind === 'server' ? [[p.target.address, p] as const] : [])))
  const nodeProbes = lbNodeProbes(probes.map((p) => p.target), new Map(probes.map((p) => [p.target.id, p.health])))
  const servers = [...new Map(config.names.flatMap((n) => n.servers).map((s) => [s.address, s])).values()]
  const serverView = (server: Server) => {
    const probe = serverProbes.get(server.address)
    return {
      address: server.address,
      site: server.site,
      health: health.get(server.address) ?? 'unknown',
      admin: { state: effectiveAdminState(server, snapshot.gslb.admin), own: admin.servers[server.address] ?? null },
      eligibility: eligibility(server, health, snapshot.gslb.admin),
      lastProbe: probe?.health.last ?? null,
      latencyMs: probe?.health.latencyMs === undefined ? null : Math.round(probe.health.latencyMs * 10) / 10,
      lastChange: probe?.health.lastChange ?? null,
      transitions: probe?.health.history ?? [],
      ...(probe?.fleet ? { fleet: probe.fleet } : {}),
    }
  }
  return {
    generation: snapshot.generation,
    ...(fleet ? { fleet } : {}),
    names: config.names.map((name) => {
      const table = tables.get(name.key)
      const family = (f: 'v4' | 'v6') => {
        const t = table?.[f]
        return t ? { reason: t.reason, answering: t.servers.map((s) => s.address), shed: t.shed } : null
      }
      return {
        name: name.fqdn,
        policy: name.policy.kind,
        load: name.load.mode,
        ttl: name.ttl,
        maxAnswers: name.maxAnswers,
        v4: family('v4'),
        v6: family('v6'),
        servers: name.servers.map((s) => {
          const weight = effectiveWeight(s, name.weights.get(s.site) ?? 1, snapshot.gslb.admin)
          // Under scale, the weight the answers use: the operator's or configured one × the site's headroom.
          const scaled = name.load.mode === 'scale' ? { loadWeight: Math.round(scaledWeight(weight, snapshot.gslb.load.sites.get(s.site), name.load.floor) * 100) / 100 } : {}
          return { address: s.address, site: s.site, weight, ...scaled, eligibility: eligibility(s, health, snapshot.gslb.admin) }
        }),
      }
    }),
    sites: [...config.sites.values()].map((site) => {
      const pair = siteStatus(site, nodeProbes, lbEvents)
      return {
        name: site.name,
        location: site.location ?? null,
        admin: admin.sites[site.name] ?? null,
        vips: site.vips.map((vip) => ({ address: vip, health: health.get(vip) ?? 'unknown' })),
        lbPair: { degraded: pair.degraded, down: pair.down, nodes: pair.nodes },
        load: loads.get(site.name) ?? null,
      }
    }),
    servers: servers.map(serverView),
    // Overrides whose target the config no longer has (a site or VIP removed): shown so they can be cleared.
    orphanedOverrides: [
      ...Object.entries(admin.servers).filter(([address]) => !servers.some((s) => s.address === address)).map(([address, record]) => ({ target: { kind: 'server' as const, address }, ...record })),
      ...Object.entries(admin.sites).filter(([site]) => !config.sites.has(site)).map(([site, record]) => ({ target: { kind: 'site' as const, site }, ...record })),
    ],
  }
}

export type StatusView = ReturnType<typeof statusView>
