// Prometheus metrics (prom-client), one registry per server. The query path only bumps numbers in
// typed arrays and Maps; they become counters when Prometheus scrapes (collect callbacks), so
// counting costs the hot path almost nothing.

import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { nameToText } from '../dns/name.ts'
import type { AnswerPlan } from '../dns/plan.ts'
import type { ProbeResult, ProbeTarget } from '../health/types.ts'
import type { Snapshot } from '../query/snapshot.ts'
import { COOKIE_CHECKS } from '../abuse/cookies.ts'
import { RESPONSE_CLASSES } from '../abuse/response-class.ts'
import { addTotals, createQueryCounter, emptyTotals, LIMIT_ACTIONS, QTYPES, RCODES, TRANSPORTS, type QueryCounter, type QueryTotals } from './query-counts.ts'

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' }

export type Metrics = {
  readonly registry: Registry
  /** The counter for queries answered on this thread. */
  readonly queries: QueryCounter
  /** Adds counts taken on a DNS worker thread. */
  addQueryTotals(worker: number, totals: QueryTotals): void
  observeProbe(target: ProbeTarget, result: ProbeResult): void
  countTransition(to: 'up' | 'down'): void
  /** A probe this machine could not make (EMFILE, ENOBUFS, …). */
  countCheckerFault(): void
  countSnapshot(): void
  /** In a fleet: gauges read from `read` when scraped. */
  watchFleet(read: () => FleetGauges): void
  /** Each site's fresh utilisation, read when scraped. */
  watchSiteLoad(read: () => ReadonlyMap<string, number>): void
}

/** What the fleet gauges show: the link to etcd, who is in the fleet, and the writes this instance sent. */
export type FleetGauges = { readonly connected: boolean; readonly members: number; readonly writes: number }

export function createMetrics(current: () => Snapshot, servers: (plan: AnswerPlan) => readonly string[] | undefined): Metrics {
  const registry = new Registry()
  let fleet: (() => FleetGauges) | undefined
  let siteLoad: () => ReadonlyMap<string, number> = () => new Map()
  const queries = createQueryCounter(servers)
  const totals = emptyTotals()
  const byThread = new Map<string, number>()
  /** Each thread's rate-limit table as it last reported it (a gauge, not a count). */
  const rrlTables = new Map<string, QueryTotals['rrlTable']>()
  /** Each thread's signature cache entries as it last reported them. */
  const signatureCaches = new Map<string, number>()
  const add = (thread: string, more: QueryTotals): void => {
    addTotals(totals, more)
    byThread.set(thread, (byThread.get(thread) ?? 0) + more.queries.reduce((sum, n) => sum + n, 0))
    rrlTables.set(thread, more.rrlTable)
    signatureCaches.set(thread, more.signatures.cached)
  }
  const fold = (): void => add('main', queries.take())

  new Counter({
    name: 'signpost_dns_queries_total', help: 'DNS queries answered, by transport, rcode and qtype', labelNames: ['transport', 'rcode', 'qtype'], registers: [registry],
    collect() {
      fold()
      this.reset()
      totals.queries.forEach((count, i) => {
        if (count === 0) return
        const q = i % (QTYPES.length + 1)
        const r = Math.floor(i / (QTYPES.length + 1)) % RCODES
        const t = Math.floor(i / ((QTYPES.length + 1) * RCODES))
        this.inc({ transport: TRANSPORTS[t] as string, rcode: RCODE_NAMES[r] ?? String(r), qtype: QTYPES[q] ?? 'other' }, count)
      })
    },
  })
  new Counter({
    name: 'signpost_dns_thread_queries_total', help: 'DNS queries answered, by the thread that answered them (worker number, or main)', labelNames: ['thread'], registers: [registry],
    collect() {
      fold()
      this.reset()
      for (const [thread, count] of byThread) if (count > 0) this.inc({ thread }, count)
    },
  })
  new Counter({
    name: 'signpost_gslb_answers_total', help: 'GSLB answers by name, family and why (healthy, drain-only, fail-open, fallback, nodata, servfail)', labelNames: ['name', 'family', 'reason'], registers: [registry],
    collect() {
      fold()
      this.reset()
      for (const t of totals.reasons.values()) this.inc({ name: t.name, family: t.family, reason: t.reason }, t.count)
    },
  })
  new Counter({
    name: 'signpost_gslb_server_answers_total', help: 'Times each server (site VIP) was in a GSLB answer', labelNames: ['address', 'site'], registers: [registry],
    collect() {
      fold()
      this.reset()
      const siteOf = new Map([...current().gslb.config.sites.values()].flatMap((s) => s.vips.map((v) => [v, s.name] as const)))
      for (const [address, count] of totals.servers) this.inc({ address, site: siteOf.get(address) ?? '' }, count)
    },
  })
  new Counter({
    name: 'signpost_rrl_limited_total', help: 'UDP responses the rate limiter held back, by action (dropped, or slipped: sent empty with TC=1 or BADCOOKIE) and response class', labelNames: ['action', 'class'], registers: [registry],
    collect() {
      fold()
      this.reset()
      totals.limited.forEach((count, i) => {
        if (count > 0) this.inc({ action: LIMIT_ACTIONS[Math.floor(i / RESPONSE_CLASSES.length)] as string, class: RESPONSE_CLASSES[i % RESPONSE_CLASSES.length] as string }, count)
      })
    },
  })
  new Gauge({
    name: 'signpost_rrl_table_slots_used', help: 'Rate-limit accounting slots in use, summed over the DNS threads (each table has a fixed size)', registers: [registry],
    collect() {
      fold()
      this.set([...rrlTables.values()].reduce((sum, t) => sum + t.used, 0))
    },
  })
  new Gauge({
    name: 'signpost_rrl_table_bytes', help: 'Memory the rate-limit tables hold, summed over the DNS threads (fixed at their size)', registers: [registry],
    collect() {
      fold()
      this.set([...rrlTables.values()].reduce((sum, t) => sum + t.bytes, 0))
    },
  })
  new Counter({
    name: 'signpost_dns_cookies_total', help: 'Queries with a DNS COOKIE option, by what it held: new (a client cookie only), valid (our server cookie), invalid (a server cookie not ours or expired)', labelNames: ['check'], registers: [registry],
    collect() {
      fold()
      this.reset()
      totals.cookies.forEach((count, i) => {
        if (count > 0) this.inc({ check: COOKIE_CHECKS[i] as string }, count)
      })
    },
  })
  new Counter({
    name: 'signpost_dnssec_query_signatures_total', help: 'RRSIGs signed at query time (GSLB answers, denials, wildcard answers), over the DNS threads; each is then cached', registers: [registry],
    collect() {
      fold()
      this.reset()
      this.inc(totals.signatures.made)
    },
  })
  new Gauge({
    name: 'signpost_dnssec_signature_cache_entries', help: 'Signatures made at query time and kept, summed over the DNS threads (each bounded by dnssec.signature_cache)', registers: [registry],
    collect() {
      fold()
      this.set([...signatureCaches.values()].reduce((sum, n) => sum + n, 0))
    },
  })
  new Gauge({
    name: 'signpost_dnssec_static_signatures', help: 'RRSIG RRsets made for each signed zone\'s own RRsets when it was loaded or signed again', labelNames: ['zone'], registers: [registry],
    collect() {
      this.reset()
      for (const signing of current().dnssec.zones.values()) this.set({ zone: nameToText(signing.signer).toLowerCase() }, signing.statics.size)
    },
  })
  new Gauge({
    name: 'signpost_dnssec_signing_keys', help: 'Keys signing each signed zone now (2 during a roll)', labelNames: ['zone'], registers: [registry],
    collect() {
      this.reset()
      for (const signing of current().dnssec.zones.values()) this.set({ zone: nameToText(signing.signer).toLowerCase() }, signing.keys.length)
    },
  })
  new Gauge({
    name: 'signpost_site_load_utilisation', help: 'Each site\'s load from its signal, 0 idle to 1 full (sites with a fresh reading only)', labelNames: ['site'], registers: [registry],
    collect() {
      this.reset()
      for (const [site, utilisation] of siteLoad()) this.set({ site }, utilisation)
    },
  })
  new Gauge({
    name: 'signpost_gslb_shedding', help: '1 for each site that sheds load (takes no new clients) for a GSLB name in shed mode', labelNames: ['name', 'site'], registers: [registry],
    collect() {
      this.reset()
      const { config, load } = current().gslb
      for (const name of config.names) for (const site of load.shedding.get(name.key) ?? []) this.set({ name: name.fqdn, site }, 1)
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
  const checkerFaults = new Counter({ name: 'signpost_checker_faults_total', help: 'Probes this machine could not make (out of file descriptors, buffers or local addresses): no verdict on the target', registers: [registry] })
  const snapshots = new Counter({ name: 'signpost_snapshots_total', help: 'Snapshots built and swapped in (reloads, health and admin changes)', registers: [registry] })

  return {
    registry,
    queries,
    addQueryTotals: (worker, more) => add(String(worker), more),
    observeProbe(target, result) {
      probeSeconds.observe({ type: target.probe.type, ok: String(result.ok) }, result.ms / 1000)
    },
    countTransition(to) {
      transitions.inc({ to })
    },
    countCheckerFault() {
      checkerFaults.inc()
    },
    countSnapshot() {
      snapshots.inc()
    },
    watchSiteLoad(read) {
      siteLoad = read
    },
    watchFleet(read) {
      if (fleet) return void (fleet = read)
      fleet = read
      new Gauge({ name: 'signpost_fleet_connected', help: '1 while this instance has etcd (watch up, lease kept alive): fleet verdicts and shared operator state; 0: last known state, own verdicts, writes refused', registers: [registry], collect() { this.set(fleet?.().connected ? 1 : 0) } })
      new Gauge({ name: 'signpost_fleet_members', help: 'Instances in the fleet (registry entries alive under their lease)', registers: [registry], collect() { this.set(fleet?.().members ?? 0) } })
      new Counter({ name: 'signpost_fleet_etcd_writes_total', help: 'Writes this instance sent to etcd for its verdicts and registry entry (operator changes not counted)', registers: [registry], collect() { this.reset(); this.inc(fleet?.().writes ?? 0) } })
    },
  }
}
