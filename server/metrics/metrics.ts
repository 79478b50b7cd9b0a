// Prometheus metrics (prom-client), one registry per server. The query path only bumps numbers in
// typed arrays and Maps; they become counters when Prometheus scrapes (collect callbacks), so
// counting costs the hot path almost nothing.

import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Worker } from 'node:worker_threads'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
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
  /** keepalived's last state per LB node (`site/node` → MASTER, BACKUP, FAULT, STOP), read when scraped. */
  watchLbNodes(read: () => ReadonlyMap<string, string>): void
  /** The DNS worker threads, for their event-loop use and heap (read when scraped). */
  watchThreads(read: () => readonly Worker[]): void
  /** A reload (POST /v1/reload, SIGHUP): applied, or rejected with nothing changed. */
  countReload(ok: boolean, atMs: number): void
}

/** What the build info gauge says of this build. */
export type BuildInfo = { readonly version: string }

/** What the fleet gauges show: the link to etcd, who is in the fleet, and the writes this instance sent. */
export type FleetGauges = { readonly connected: boolean; readonly members: number; readonly writes: number }

export function createMetrics(current: () => Snapshot, servers: (plan: AnswerPlan) => readonly string[] | undefined, build: BuildInfo): Metrics {
  const registry = new Registry()
  // The main thread's process metrics (CPU, memory, event loop lag, GC, handles), prom-client's defaults.
  collectDefaultMetrics({ register: registry })
  let lbNodes: () => ReadonlyMap<string, string> = () => new Map()
  let threads: () => readonly Worker[] = () => []
  let fleet: (() => FleetGauges) | undefined
  let siteLoad: () => ReadonlyMap<string, number> = () => new Map()
  const queries = createQueryCounter(servers)
  const totals = emptyTotals()
  const byThread = new Map<string, number>()
  /** Each thread's rate-limit table as it last reported it (a gauge, not a count). */
  const rrlTables = new Map<string, QueryTotals['rrlTable']>()
  /** Each thread's signature cache entries as it last reported them. */
  const signatureCaches = new Map<string, number>()
  const responseSeconds = new Histogram({
    name: 'signpost_dns_response_seconds',
    help: 'Time to answer a query inside the server (message in to reply bytes out, queueing in the socket not included), for 1 query in 64',
    buckets: [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025],
    // Registered after the query counters below: their collect folds this thread's samples in first.
    registers: [],
  })
  const add = (thread: string, more: QueryTotals): void => {
    for (const seconds of more.responseTimes) responseSeconds.observe(seconds)
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
  new Gauge({
    name: 'signpost_admin_state', help: 'Operator overrides in force: 1 for each target (server or site) and the state it is set to', labelNames: ['kind', 'target', 'state'], registers: [registry],
    collect() {
      this.reset()
      const { admin } = current().gslb
      for (const [address, entry] of admin.servers) this.set({ kind: 'server', target: address, state: entry.state }, 1)
      for (const [site, entry] of admin.sites) this.set({ kind: 'site', target: site, state: entry.state }, 1)
    },
  })
  new Gauge({
    name: 'signpost_admin_weight', help: 'Weights an operator set, per target (server or site); targets with the configured weight are absent', labelNames: ['kind', 'target'], registers: [registry],
    collect() {
      this.reset()
      const { admin } = current().gslb
      for (const [address, entry] of admin.servers) if (entry.weight !== undefined) this.set({ kind: 'server', target: address }, entry.weight)
      for (const [site, entry] of admin.sites) if (entry.weight !== undefined) this.set({ kind: 'site', target: site }, entry.weight)
    },
  })
  new Gauge({
    name: 'signpost_lb_node_keepalived_state', help: 'keepalived\'s last reported state of each LB node: 1 for the state it is in (nodes that never reported are absent)', labelNames: ['site', 'node', 'state'], registers: [registry],
    collect() {
      this.reset()
      for (const [key, state] of lbNodes()) {
        const [site = '', node = ''] = key.split('/')
        this.set({ site, node, state }, 1)
      }
    },
  })
  new Gauge({
    name: 'signpost_zone_serial', help: 'SOA serial of each zone served', labelNames: ['zone'], registers: [registry],
    collect() {
      this.reset()
      for (const zone of current().zones.byKey.values()) this.set({ zone: nameToText(zone.origin) }, zone.serial)
    },
  })
  const reloads = new Counter({ name: 'signpost_reloads_total', help: 'Reloads (POST /v1/reload, SIGHUP) by result: applied, or rejected with nothing changed', labelNames: ['result'], registers: [registry] })
  const reloadOk = new Gauge({ name: 'signpost_reload_last_success', help: '1 when the last reload was applied, 0 when it was rejected (absent before the first)', registers: [registry] })
  const reloadAt = new Gauge({ name: 'signpost_reload_last_timestamp_seconds', help: 'When the last reload was tried (Unix time)', registers: [registry] })
  new Gauge({ name: 'signpost_build_info', help: 'Always 1; the labels say which build and runtime answer', labelNames: ['version', 'node'], registers: [registry] }).set({ version: build.version, node: process.version }, 1)
  // Event-loop use since the last scrape, per thread; the main thread probes and serves the admin API.
  const lastUse = new WeakMap<object, EventLoopUtilization>()
  const mainThread = {}
  const utilisation = (key: object, read: (since?: EventLoopUtilization) => EventLoopUtilization): number => {
    const previous = lastUse.get(key)
    lastUse.set(key, read())
    return previous ? read(previous).utilization : 0
  }
  new Gauge({
    name: 'signpost_thread_event_loop_utilization', help: 'Share of time each thread\'s event loop was busy since the last scrape (main: probes and admin API; 0, 1, …: DNS workers)', labelNames: ['thread'], registers: [registry],
    collect() {
      this.set({ thread: 'main' }, utilisation(mainThread, (since) => performance.eventLoopUtilization(since)))
      threads().forEach((worker, index) => this.set({ thread: String(index) }, utilisation(worker, (since) => worker.performance.eventLoopUtilization(since))))
    },
  })
  new Gauge({
    name: 'signpost_thread_heap_used_bytes', help: 'V8 heap in use per thread (main, and each DNS worker: each holds its own copy of the zones)', labelNames: ['thread'], registers: [registry],
    async collect() {
      this.set({ thread: 'main' }, process.memoryUsage().heapUsed)
      const heaps = await Promise.all(threads().map((worker) => worker.getHeapStatistics().catch(() => undefined)))
      heaps.forEach((heap, index) => heap && this.set({ thread: String(index) }, heap.used_heap_size))
    },
  })
  registry.registerMetric(responseSeconds)
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
    watchLbNodes(read) {
      lbNodes = read
    },
    watchThreads(read) {
      threads = read
    },
    countReload(ok, atMs) {
      reloads.inc({ result: ok ? 'applied' : 'rejected' })
      reloadOk.set(ok ? 1 : 0)
      reloadAt.set(Math.floor(atMs / 1000))
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
