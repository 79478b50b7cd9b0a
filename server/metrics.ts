// Prometheus metrics (prom-client), one registry per server. The query path only bumps numbers in
// typed arrays and Maps; they become counters when Prometheus scrapes (collect callbacks), so
// counting costs the hot path almost nothing.

import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AnswerPlan } from './dns/plan.ts'
import { typeName } from './dns/types.ts'
import type { FamilyTable, NameTables } from './gslb/tables.ts'
import type { ProbeResult, ProbeTarget } from './health/types.ts'
import type { Snapshot } from './state/snapshot.ts'

const QTYPES = ['A', 'AAAA', 'NS', 'SOA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA', 'PTR', 'DS', 'ANY'] as const
const QTYPE_INDEX = new Map<string, number>(QTYPES.map((t, i) => [t, i]))
const OTHER_QTYPE = QTYPES.length
const RCODES = 24
const TRANSPORTS = ['udp', 'tcp'] as const
const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' }

export type Metrics = {
  readonly registry: Registry
  countQuery(transport: 'udp' | 'tcp', rcode: number, qtype: number): void
  countGslbAnswer(tables: NameTables, table: FamilyTable, plan: AnswerPlan): void
  observeProbe(target: ProbeTarget, result: ProbeResult): void
  countTransition(to: 'up' | 'down'): void
  countSnapshot(): void
}

export function createMetrics(current: () => Snapshot, servers: (plan: AnswerPlan) => readonly string[] | undefined): Metrics {
  const registry = new Registry()
  const queryCounts = new Float64Array(TRANSPORTS.length * RCODES * (QTYPES.length + 1))
  const qtypeIndex = new Map<number, number>()
  const planCounts = new Map<AnswerPlan, number>()
  const tableCounts = new Map<FamilyTable, { name: string; family: string; count: number }>()
  const serverTotals = new Map<string, number>()
  const reasonTotals = new Map<string, { name: string; family: string; reason: string; count: number }>()

  const fold = (): void => {
    for (const [plan, count] of planCounts) for (const address of servers(plan) ?? []) serverTotals.set(address, (serverTotals.get(address) ?? 0) + count)
    planCounts.clear()
    for (const [table, { name, family, count }] of tableCounts) {
      const key = `${name} ${family} ${table.reason}`
      const total = reasonTotals.get(key) ?? { name, family, reason: table.reason, count: 0 }
      total.count += count
      reasonTotals.set(key, total)
    }
    tableCounts.clear()
  }

  new Counter({
    name: 'signpost_dns_queries_total', help: 'DNS queries answered, by transport, rcode and qtype', labelNames: ['transport', 'rcode', 'qtype'], registers: [registry],
    collect() {
      this.reset()
      queryCounts.forEach((count, i) => {
        if (count === 0) return
        const q = i % (QTYPES.length + 1)
        const r = Math.floor(i / (QTYPES.length + 1)) % RCODES
        const t = Math.floor(i / ((QTYPES.length + 1) * RCODES))
        this.inc({ transport: TRANSPORTS[t] as string, rcode: RCODE_NAMES[r] ?? String(r), qtype: QTYPES[q] ?? 'other' }, count)
      })
    },
  })
  new Counter({
    name: 'signpost_gslb_answers_total', help: 'GSLB answers by name, family and why (healthy, drain-only, fail-open, fallback, nodata, servfail)', labelNames: ['name', 'family', 'reason'], registers: [registry],
    collect() {
      fold()
      this.reset()
      for (const t of reasonTotals.values()) this.inc({ name: t.name, family: t.family, reason: t.reason }, t.count)
    },
  })
  new Counter({
    name: 'signpost_gslb_server_answers_total', help: 'Times each server (site VIP) was in a GSLB answer', labelNames: ['address', 'site'], registers: [registry],
    collect() {
      fold()
      this.reset()
      const siteOf = new Map([...current().gslb.config.sites.values()].flatMap((s) => s.vips.map((v) => [v, s.name] as const)))
      for (const [address, count] of serverTotals) this.inc({ address, site: siteOf.get(address) ?? '' }, count)
    },
  })
  new Gauge({
    name: 'signpost_server_healthy', help: 'Health verdict per server: 1 up (or no verdict yet), 0 down', labelNames: ['address', 'site'], registers: [registry],
    collect() {
      this.reset()
      const snapshot = current()
      for (const site of snapshot.gslb.config.sites.values()) for (const vip of site.vips) this.set({ address: vip, site: site.name }, snapshot.gslb.health.get(vip) === 'down' ? 0 : 1)
    },
  })
  const probeSeconds = new Histogram({ name: 'signpost_probe_duration_seconds', help: 'Health probe duration, by probe type and outcome', labelNames: ['type', 'ok'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] })
  const transitions = new Counter({ name: 'signpost_health_transitions_total', help: 'Health verdict changes, by new state', labelNames: ['to'], registers: [registry] })
  const snapshots = new Counter({ name: 'signpost_snapshots_total', help: 'Snapshots built and swapped in (reloads, health and admin changes)', registers: [registry] })

  return {
    registry,
    countQuery(transport, rcode, qtype) {
      let q = qtypeIndex.get(qtype)
      if (q === undefined) qtypeIndex.set(qtype, (q = QTYPE_INDEX.get(typeName(qtype)) ?? OTHER_QTYPE))
      const index = ((transport === 'udp' ? 0 : 1) * RCODES + (rcode % RCODES)) * (QTYPES.length + 1) + q
      queryCounts[index] = (queryCounts[index] as number) + 1
    },
    countGslbAnswer(tables, table, plan) {
      planCounts.set(plan, (planCounts.get(plan) ?? 0) + 1)
      const entry = tableCounts.get(table)
      if (entry) entry.count++
      else tableCounts.set(table, { name: tables.name.fqdn, family: tables.v4 === table ? 'v4' : 'v6', count: 1 })
    },
    observeProbe(target, result) {
      probeSeconds.observe({ type: target.probe.type, ok: String(result.ok) }, result.ms / 1000)
    },
    countTransition(to) {
      transitions.inc({ to })
    },
    countSnapshot() {
      snapshots.inc()
    },
  }
}
