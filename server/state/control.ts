// The control plane: the one owner of every change to what this server answers. Operator writes,
// reloads and keepalived events go through one queue, in arrival order; health transitions are
// applied as they come (each one synchronously, so none lands inside another change). Each change
// is decided by pure functions, made durable where it is an operator's (through the injected
// AdminStore), published to this thread's store, and followed by every replica (the DNS worker
// threads); a write resolves only once every replica answers with it.
//
// Storage (AdminStore), loading (`load`), probing (`prober`) and the replicas are injected: the
// control plane decides, and needs no socket, file or timer of its own. `admin/` sees only the
// `Control` interface.

import type { Logger } from 'pino'
import { formatProblem, type Problem } from '../common/problem.ts'
import { releaseMemory } from '../common/release-memory.ts'
import type { Config } from '../config/schema.ts'
import { nameToText } from '../dns/name.ts'
import type { HealthView } from '../gslb/types.ts'
import type { KeepalivedState } from '../health/lb-pair.ts'
import { probeTargets } from '../health/targets.ts'
import { INITIAL_HEALTH, type ProbeResult, type ProbeTarget, type TargetHealth, type Transition } from '../health/types.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { QueryTotals } from '../metrics/query-counts.ts'
import { buildSnapshot, withAdmin, withHealth, type Snapshot } from '../query/snapshot.ts'
import { createStore, type Store } from '../query/store.ts'
import type { ZoneSet } from '../zone/zone-set.ts'
import { adminView, decideAdminChange, type AdminChange, type AdminFile, type AdminResult, type AdminStore, type AdminTarget } from './admin-state.ts'
import { statusView, type StatusView } from './explain.ts'
import { healthView } from './health-view.ts'
import type { Inputs, LoadResult } from './load-inputs.ts'
import { reloadChanges, type ReloadChanges } from './reload-changes.ts'
import { restartOnlyChanges, type LiveSettings, type SettingsResult } from './settings.ts'

export { parseServerAddress } from '../common/address.ts'
export { MAX_WEIGHT, type AdminChange, type AdminResult, type AdminTarget } from './admin-state.ts'
export type { StatusView } from './explain.ts'

export type ZoneSummary = { readonly name: string; readonly serial: number; readonly file: string }

/** A reload applies everything or, on any problem, nothing (`zones` then lists what is still served). */
export type ReloadResult =
  | { readonly ok: true; readonly zones: readonly ZoneSummary[]; readonly changes: ReloadChanges }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly zones: readonly ZoneSummary[] }

export type LbEvent = { readonly site: string; readonly node: string; readonly state: KeepalivedState }
export type LbEventResult = { readonly ok: true } | { readonly ok: false; readonly message: string }

export type ControlEvent = { readonly type: 'health' | 'admin' | 'lb' | 'reload'; readonly at: string; readonly [key: string]: unknown }

/** What the admin API may ask of the server: the only thing admin/ uses. */
export type Control = {
  zonesLoaded(): number
  status(): StatusView
  /** Prometheus text exposition, with the replicas' query counts folded in. */
  metrics(): Promise<{ contentType: string; text: string }>
  /** Writes: each resolves once it is applied (durable first, for an operator's change) on every thread that answers DNS. */
  reload(): Promise<ReloadResult>
  lbEvent(event: LbEvent): Promise<LbEventResult>
  setAdminState(target: AdminTarget, change: AdminChange, actor: string): Promise<AdminResult>
  /** Health transitions, admin changes, keepalived events and reloads as they happen. */
  subscribe(listener: (event: ControlEvent) => void): () => void
  /** Admin tokens and protect_reads as the config says now (a reload applies them). */
  settings(): LiveSettings
}

/** Other threads answering from their own copies of the published snapshots: the DNS worker threads (net/dns-workers.ts). */
export type Replicas = {
  /** Brings every replica to `snapshot` (each is sent what changed since the snapshot it has). */
  follow(snapshot: Snapshot): void
  /** Resolves once every replica applied everything sent so far. */
  synced(): Promise<void>
  /** Query counts each replica took since the last call, by replica number. */
  takeCounts(): Promise<readonly (QueryTotals | undefined)[]>
}

/** Probing of a config's targets: health/checker.ts in production, a fake in tests. */
export type Prober = {
  /** One probe of every target (bounded by the probe timeouts), then the schedule starts. */
  start(): Promise<void>
  health(): ReadonlyMap<string, TargetHealth>
  stop(): void
}

export type ProberOptions = {
  readonly config: Config
  readonly targets: readonly ProbeTarget[]
  /** Health carried over from the prober before (a reload), by target id. */
  readonly previous: ReadonlyMap<string, TargetHealth>
  readonly onTransitions: (transitions: readonly Transition[]) => void
  /** A probe this machine could not make (EMFILE, …): counted and logged, never a verdict. */
  readonly onFault: (target: ProbeTarget, result: ProbeResult) => void
}

export type ControlDeps = {
  /** The first load, already checked. */
  readonly inputs: Inputs
  /** Reads config, zones and GeoIP database again, for a reload. */
  readonly load: () => Promise<LoadResult>
  readonly adminStore: AdminStore
  readonly prober: (options: ProberOptions) => Prober
  /** The settings a reload applies live: those of the first load, how to read them from a new config, and where the log level goes. */
  readonly settings: LiveSettings
  readonly readSettings: (config: Config) => SettingsResult
  readonly setLogLevel: (level: string) => void
  readonly metrics: Metrics
  readonly now: () => Date
  readonly logger: Logger
}

export type ControlPlane = {
  readonly control: Control
  /** This thread's store; only the control plane publishes to it. */
  readonly store: Store
  /** Brings `replicas` to the current snapshot; from now on every published one goes to them too, and writes wait for them. */
  replicateTo(replicas: Replicas): void
  stop(): void
}

const FAULT_LOG_MS = 10_000

/** Builds the first snapshot and runs one full probe round, so the first answers are already health-aware. */
export async function createControlPlane(deps: ControlDeps): Promise<ControlPlane> {
  const { logger, metrics } = deps
  const loadLog = logger.child({ component: 'load' })
  const gslbLog = logger.child({ component: 'gslb' })
  const healthLog = logger.child({ component: 'health' })
  const adminLog = logger.child({ component: 'admin' })
  let inputs = deps.inputs
  let settings = deps.settings
  let adminFile: AdminFile = deps.adminStore.initial
  let replicas: Replicas | undefined
  const store = createStore(buildSnapshot(1, inputs.zones, inputs.gslb, new Map(), adminView(adminFile), inputs.geo))
  logPicks(gslbLog, undefined, store.current)

  /** Swaps in the snapshot `change` makes of the current one; the replicas follow. */
  const swap = (change: (current: Snapshot) => Snapshot): void => {
    const before = store.current
    const after = change(before)
    store.publish(after)
    metrics.countSnapshot()
    replicas?.follow(after)
    logPicks(gslbLog, before, after)
  }

  const listeners = new Set<(event: ControlEvent) => void>()
  const emit = (event: ControlEvent): void => {
    for (const listener of listeners) listener(event)
  }

  // Writes run one at a time, in arrival order, and resolve once every replica applied them.
  let queue: Promise<unknown> = Promise.resolve()
  const write = <T>(change: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      const result = await change()
      await replicas?.synced()
      return result
    })
    queue = run.catch(() => undefined)
    return run
  }

  // Health: the prober's verdicts plus keepalived events become the snapshot's HealthView.
  let targets: readonly ProbeTarget[] = []
  let prober: Prober | undefined
  const lbEvents = new Map<string, KeepalivedState>()
  const publishHealth = (): void => {
    const view = healthView(targets, prober?.health() ?? new Map(), lbEvents, inputs.gslb.sites)
    if (!sameView(view, store.current.gslb.health)) swap((current) => withHealth(current, view))
  }
  const onTransitions = (byId: ReadonlyMap<string, ProbeTarget>) => (transitions: readonly Transition[]): void => {
    for (const t of transitions) {
      metrics.countTransition(t.to)
      const target = byId.get(t.id)
      const line = { target: target?.kind, address: target?.address, site: target?.site, node: target?.node, from: t.from, to: t.to, reason: t.reason }
      healthLog.info(line, 'health transition')
      emit({ type: 'health', at: new Date(t.at).toISOString(), ...line })
    }
    publishHealth()
  }
  // Faults come in storms (every probe fails with EMFILE at once): one line per FAULT_LOG_MS at most.
  let faults = 0
  let faultsLoggedAt = -Infinity
  const onFault = (target: ProbeTarget, result: ProbeResult): void => {
    metrics.countCheckerFault()
    faults++
    const now = deps.now().getTime()
    if (now - faultsLoggedAt < FAULT_LOG_MS) return
    healthLog.error({ faults, address: target.address, detail: result.ok ? '' : result.detail }, 'probes could not be made on this machine; targets keep their verdicts')
    faults = 0
    faultsLoggedAt = now
  }
  const restartProbes = async (config: Config): Promise<void> => {
    const previous = prober?.health() ?? new Map<string, TargetHealth>()
    prober?.stop()
    targets = probeTargets(config)
    prober = deps.prober({ config, targets, previous, onTransitions: onTransitions(new Map(targets.map((t) => [t.id, t]))), onFault })
    await prober.start()
    publishHealth()
  }
  await restartProbes(inputs.config)

  const reload = async (): Promise<ReloadResult> => {
    const result = await deps.load()
    const read = result.ok ? deps.readSettings(result.inputs.config) : undefined
    const problems = !result.ok ? result.problems : [
      ...result.zoneProblems,
      ...restartOnlyChanges(inputs.config, result.inputs.config, result.inputs.locate),
      ...(read && !read.ok ? [{ code: 'config' as const, ...result.inputs.locate(['admin', 'tokens_file']), message: read.message }] : []),
    ]
    if (!result.ok || !read?.ok || problems.length > 0) {
      for (const problem of problems) loadLog.error({ problem: formatProblem(problem) }, 'reload rejected; still serving the last good configuration and zones')
      return { ok: false, problems, zones: describeZones(inputs.zones) }
    }
    const previous = inputs
    inputs = result.inputs
    settings = read.settings
    deps.setLogLevel(settings.logLevel)
    logZones(loadLog, inputs.zones)
    swap((current) => buildSnapshot(current.generation + 1, inputs.zones, inputs.gslb, current.gslb.health, current.gslb.admin, inputs.geo))
    await restartProbes(inputs.config)
    const zones = describeZones(inputs.zones)
    const changes = reloadChanges(previous, inputs)
    loadLog.info(changes, 'reloaded')
    emit({ type: 'reload', at: deps.now().toISOString(), zones, changes })
    // Once this function's references to the old inputs are gone.
    setImmediate(releaseMemory)
    return { ok: true, zones, changes }
  }

  const lbEvent = async (event: LbEvent): Promise<LbEventResult> => {
    const site = inputs.gslb.sites.get(event.site)
    if (!site) return { ok: false, message: `no site named '${event.site}'` }
    if (!site.lbPair.some((n) => n.name === event.node)) return { ok: false, message: `site ${event.site} has no LB node named '${event.node}'` }
    lbEvents.set(`${event.site}/${event.node}`, event.state)
    healthLog.info({ site: event.site, node: event.node, state: event.state }, 'keepalived event')
    emit({ type: 'lb', at: deps.now().toISOString(), ...event })
    publishHealth()
    return { ok: true }
  }

  // Knot's commit order: decide, make durable, then publish.
  const setAdminState = async (target: AdminTarget, change: AdminChange, actor: string): Promise<AdminResult> => {
    const decided = decideAdminChange(adminFile, inputs.gslb, target, change, actor, deps.now().toISOString())
    if (!decided.ok) return decided
    await deps.adminStore.commit(decided.next, decided.entry)
    adminFile = decided.next
    swap((current) => withAdmin(current, adminView(adminFile)))
    const { record } = decided
    adminLog.info({ target: decided.target, state: record.state, weight: record.weight, actor, reason: change.reason }, 'admin state changed')
    emit({ type: 'admin', at: record.at, target: decided.target, record })
    return { ok: true, target: decided.target, record }
  }

  const probes = () => targets.map((target) => ({ target, health: prober?.health().get(target.id) ?? INITIAL_HEALTH }))
  const control: Control = {
    zonesLoaded: () => store.current.zones.byKey.size,
    status: () => statusView(store.current, probes(), lbEvents, adminFile),
    metrics: async () => {
      const taken = (await replicas?.takeCounts()) ?? []
      taken.forEach((totals, replica) => totals && metrics.addQueryTotals(replica, totals))
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }
    },
    reload: () => write(reload),
    lbEvent: (event) => write(() => lbEvent(event)),
    setAdminState: (target, change, actor) => write(() => setAdminState(target, change, actor)),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    settings: () => settings,
  }
  return {
    control,
    store,
    replicateTo(next) {
      replicas = next
      // Snapshots published while they started (a health transition) are caught up here.
      next.follow(store.current)
    },
    stop: () => prober?.stop(),
  }
}

function sameView(a: HealthView, b: HealthView): boolean {
  if (a.size !== b.size) return false
  for (const [address, state] of a) if (b.get(address) !== state) return false
  return true
}

/** The zones served, for replies and logs. */
export function describeZones(zones: ZoneSet): ZoneSummary[] {
  return [...zones.byKey.values()].map((z) => ({ name: nameToText(z.origin), serial: z.serial, file: z.file }))
}

/** One line per zone loaded. */
export function logZones(log: Logger, zones: ZoneSet): void {
  for (const zone of zones.byKey.values()) log.info({ zone: nameToText(zone.origin), serial: zone.serial, file: zone.file, nodes: zone.nodes.size }, 'zone loaded')
}

/** Logs each GSLB name and family whose reason (healthy, fail-open, …) changed. */
function logPicks(log: Logger, before: Snapshot | undefined, after: Snapshot): void {
  for (const [key, tables] of after.gslb.tables) {
    const old = before?.gslb.tables.get(key)
    for (const family of ['v4', 'v6'] as const) {
      const table = tables[family]
      if (!table || old?.[family]?.reason === table.reason) continue
      const line = { name: tables.name.fqdn, family, reason: table.reason, servers: table.servers.map((s) => s.address) }
      if (table.reason === 'healthy') log.info(line, 'gslb answers')
      else log.warn(line, 'gslb answers without a healthy server')
    }
  }
}
