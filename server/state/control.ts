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

import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { defenceSettings, type DefenceSettings } from '../abuse/settings.ts'
import { formatProblem, type Problem } from '../common/problem.ts'
import { releaseMemory } from '../common/release-memory.ts'
import type { Config } from '../config/schema.ts'
import { nameToText } from '../dns/name.ts'
import type { GeoSource } from '../geo/geo-db.ts'
import { ipv4Population, type Population } from '../geo/population.ts'
import type { HealthView } from '../gslb/types.ts'
import { DEFAULT_FLEET_RULE, describeFleetRule } from '../health/fleet-rule.ts'
import type { KeepalivedState } from '../health/lb-pair.ts'
import { probeTargets } from '../health/targets.ts'
import { INITIAL_HEALTH, type ProbeResult, type ProbeTarget, type TargetHealth, type Transition } from '../health/types.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { QueryTotals } from '../metrics/query-counts.ts'
import type { LoadPoller, LoadPollerOptions } from '../load/poller.ts'
import { buildSnapshot, withAdmin, withHealth, withLoad, type Snapshot } from '../query/snapshot.ts'
import { createStore, type Store } from '../query/store.ts'
import type { ZoneSet } from '../zone/zone-set.ts'
import { adminView, decideAdminChange, expiredOverrides, nextExpiry, type AdminChange, type AdminResult, type AdminStore, type AdminTarget, type RemoteAdminChange } from './admin-state.ts'
import type { AuditEntry } from './audit-log.ts'
import { statusView, type StatusView } from './explain.ts'
import { fleetHealth, latestLbEvents, ownVerdict, type FleetTargetView, type TimedLbEvent } from './fleet-health.ts'
import { fleetView, type FleetView } from './fleet-view.ts'
import { targetKey, type Fleet, type Identity, type Verdict } from './fleet.ts'
import { healthView } from './health-view.ts'
import { createAlarm } from './alarm.ts'
import { explainAnswer, type ExplainRequest, type ExplainResult } from './explain-answer.ts'
import { simulateChanges, type SimulateResult, type WhatIf } from './simulate.ts'
import { resignInputs, type Inputs, type LoadResult } from './load-inputs.ts'
import { reloadChanges, serialsBackwards, type ReloadChanges } from './reload-changes.ts'
import { createSiteLoad } from './site-load.ts'
import { restartOnlyChanges, type LiveSettings, type SettingsResult } from './settings.ts'

export { parseServerAddress } from '../common/address.ts'
export { MAX_WEIGHT, type AdminChange, type AdminResult, type AdminTarget } from './admin-state.ts'
export type { StatusView } from './explain.ts'
export type { ExplainRequest, ExplainResult } from './explain-answer.ts'
export type { SimulateResult, WhatIf } from './simulate.ts'
export type { FleetView } from './fleet-view.ts'
export type { AuditEntry } from './audit-log.ts'
export type { AdminToken, Role } from './settings.ts'

export type ZoneSummary = { readonly name: string; readonly serial: number; readonly file: string }

/** A reload applies everything or, on any problem, nothing (`zones` then lists what is still served). */
export type ReloadResult =
  | { readonly ok: true; readonly zones: readonly ZoneSummary[]; readonly changes: ReloadChanges }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly zones: readonly ZoneSummary[] }

export type LbEvent = { readonly site: string; readonly node: string; readonly state: KeepalivedState }
/** `shared`: whether the fleet's other instances have it too (false when etcd did not take it, or there is no fleet). */
export type LbEventResult = { readonly ok: true; readonly shared: boolean; readonly problem?: string } | { readonly ok: false; readonly message: string }

/** `mode`: a GSLB name and family changed answering mode (healthy, drain-only, fail-open, …); `reload-rejected`: a reload found problems and changed nothing. */
export type ControlEvent = { readonly type: 'health' | 'admin' | 'lb' | 'reload' | 'reload-rejected' | 'load' | 'mode'; readonly at: string; readonly [key: string]: unknown }

/** What the admin API may ask of the server: the only thing admin/ uses. */
export type Control = {
  zonesLoaded(): number
  status(): StatusView
  /** Why a client gets the answer it gets for a GSLB name (see explain-answer.ts). */
  explain(request: ExplainRequest): ExplainResult
  /** What each GSLB name would answer, and to whom, after hypothetical changes (see simulate.ts); changes nothing. */
  simulate(changes: readonly WhatIf[]): Promise<SimulateResult>
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
  /** The fleet's instances, or undefined when this one runs alone. */
  fleet(): FleetView | undefined
  /** The newest `limit` operator changes, oldest first: the whole fleet's in a fleet. */
  audit(limit: number): Promise<readonly AuditEntry[]>
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
  /** Reads config, zones, keys and GeoIP database again, for a reload (reusing `previous`'s signatures where nothing changed). */
  readonly load: (previous: Inputs) => Promise<LoadResult>
  readonly adminStore: AdminStore
  /** In a fleet: etcd's shared state (its adminStore is `adminStore`), and what this instance says of itself. */
  readonly fleet?: { readonly link: Fleet; readonly identity: (inputs: Inputs) => Identity } | undefined
  readonly prober: (options: ProberOptions) => Prober
  /** Reading the sites' load signals: load/poller.ts in production. */
  readonly loadPoller: (options: LoadPollerOptions) => LoadPoller
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
  /**
   * For a replacement (`serve --replace`): no more operator writes from here. Windows' ends are no
   * longer acted on, and it resolves once the writes already queued are done; health and answers
   * go on until stop().
   */
  quiesce(): Promise<void>
  stop(): void
}

const FAULT_LOG_MS = 10_000
const EXPIRY_RETRY_MS = 60_000

/** Builds the first snapshot and runs one full probe round, so the first answers are already health-aware. */
export async function createControlPlane(deps: ControlDeps): Promise<ControlPlane> {
  const { logger, metrics } = deps
  const loadLog = logger.child({ component: 'load' })
  const gslbLog = logger.child({ component: 'gslb' })
  const healthLog = logger.child({ component: 'health' })
  const adminLog = logger.child({ component: 'admin' })
  let inputs = deps.inputs
  let settings = deps.settings
  const adminStore = deps.adminStore
  const fleet = deps.fleet?.link
  let replicas: Replicas | undefined
  // The cookie secret when the config names none: made once, kept across reloads (a restart makes a new one).
  const generatedSecret = new Uint8Array(randomBytes(16))
  const defence = (config: Config, before: DefenceSettings | undefined): DefenceSettings => defenceSettings(config, before, Math.floor(deps.now().getTime() / 1000), generatedSecret)
  const store = createStore(buildSnapshot(1, inputs.zones, inputs.gslb, new Map(), adminView(adminStore.current()), inputs.geo, undefined, defence(inputs.config, undefined), inputs.dnssec?.snapshot))
  for (const line of pickChanges(undefined, store.current)) logPick(gslbLog, line)

  const listeners = new Set<(event: ControlEvent) => void>()
  const emit = (event: ControlEvent): void => {
    for (const listener of listeners) listener(event)
  }

  /** Swaps in the snapshot `change` makes of the current one; the replicas follow. A name that changes answering mode is logged and sent as a `mode` event. */
  const swap = (change: (current: Snapshot) => Snapshot): void => {
    const before = store.current
    const after = change(before)
    store.publish(after)
    metrics.countSnapshot()
    replicas?.follow(after)
    for (const line of pickChanges(before, after)) {
      logPick(gslbLog, line)
      emit({ type: 'mode', at: deps.now().toISOString(), ...line })
    }
  }

  // Writes run one at a time, in arrival order, and resolve once every replica applied them.
  let queue: Promise<unknown> = Promise.resolve()
  /** Set by quiesce(): the state is being handed to a replacement process. */
  let quiesced = false
  const write = <T>(change: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      const result = await change()
      await replicas?.synced()
      return result
    })
    queue = run.catch(() => undefined)
    return run
  }

  /** In a fleet: what this instance serves, for /v1/fleet's split-brain check. */
  const announce = (): void => deps.fleet?.link.setIdentity(deps.fleet.identity(inputs))

  // Health: the prober's verdicts (in a fleet, with the peers' by the fleet rule) plus keepalived
  // events become the snapshot's HealthView.
  let targets: readonly ProbeTarget[] = []
  let prober: Prober | undefined
  const ownLbEvents = new Map<string, TimedLbEvent>()
  const lbEvents = () => latestLbEvents(ownLbEvents, fleet?.lbEvents() ?? new Map())
  const fleetRule = () => inputs.config.health?.fleet_rule ?? DEFAULT_FLEET_RULE
  const health = (): { health: ReadonlyMap<string, TargetHealth>; views: ReadonlyMap<string, FleetTargetView> | undefined } => {
    const own = prober?.health() ?? new Map<string, TargetHealth>()
    if (!fleet) return { health: own, views: undefined }
    return fleetHealth(targets, own, fleet.peerVerdicts(), fleetRule(), fleet.instance, targetKey)
  }
  const publishHealth = (): void => {
    const view = healthView(targets, health().health, lbEvents(), inputs.gslb.sites)
    if (!sameView(view, store.current.gslb.health)) swap((current) => withHealth(current, view))
  }
  const publishVerdicts = (): void => {
    const own = prober?.health() ?? new Map<string, TargetHealth>()
    fleet?.publishVerdicts(new Map<string, Verdict>(targets.map((t) => [targetKey(t), ownVerdict(t, own.get(t.id) ?? INITIAL_HEALTH)])))
  }
  const onTransitions = (byId: ReadonlyMap<string, ProbeTarget>) => (transitions: readonly Transition[]): void => {
    for (const t of transitions) {
      metrics.countTransition(t.to)
      const target = byId.get(t.id)
      const line = { target: target?.kind, address: target?.address, site: target?.site, node: target?.node, from: t.from, to: t.to, reason: t.reason }
      healthLog.info(line, 'health transition')
      emit({ type: 'health', at: new Date(t.at).toISOString(), ...line })
    }
    publishVerdicts()
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
  // Load: the sites' readings become the snapshot's LoadView (utilisation, and who sheds per name).
  const siteLoadLog = logger.child({ component: 'site-load' })
  const siteLoad = createSiteLoad({
    poller: deps.loadPoller,
    names: () => inputs.gslb.names,
    current: () => store.current.gslb.load,
    masterOf: (site) => {
      const events = lbEvents()
      return inputs.gslb.sites.get(site)?.lbPair.find((n) => events.get(`${site}/${n.name}`) === 'MASTER')?.name
    },
    latencyOf: (site) => {
      const own = prober?.health()
      const latencies = targets.filter((t) => t.kind === 'server' && t.site === site).flatMap((t) => own?.get(t.id)?.latencyMs ?? [])
      return latencies.length > 0 ? Math.max(...latencies) : undefined
    },
    publish(view, changes) {
      swap((current) => withLoad(current, view))
      for (const change of changes) {
        siteLoadLog.info(change, change.shedding ? 'site sheds load: no new clients for this name' : 'site takes new clients again')
        emit({ type: 'load', at: deps.now().toISOString(), ...change })
      }
    },
    now: () => deps.now().getTime(),
  })

  const restartProbes = async (config: Config): Promise<void> => {
    const previous = prober?.health() ?? new Map<string, TargetHealth>()
    prober?.stop()
    targets = probeTargets(config)
    prober = deps.prober({ config, targets, previous, onTransitions: onTransitions(new Map(targets.map((t) => [t.id, t]))), onFault })
    await prober.start()
    publishVerdicts()
    publishHealth()
  }
  await restartProbes(inputs.config)
  siteLoad.restart(inputs.config)

  // Signing again, without reading any file, when a static signature falls due or a key's timing
  // (publish, activate, inactive, delete) passes: a key roll runs on its own once its times are set.
  const signingAlarm = createAlarm(() => deps.now().getTime())
  const resign = async (): Promise<void> => {
    try {
      inputs = resignInputs(inputs, Math.floor(deps.now().getTime() / 1000))
    } catch (error) {
      // A bug, not bad input (the same texts loaded before): keep the signatures served now, which
      // have a quarter of their validity left, and try again.
      loadLog.error({ err: error }, 'signing again failed; trying again in an hour')
      signingAlarm.set(deps.now().getTime() + 3_600_000, () => void write(resign))
      return
    }
    swap((current) => buildSnapshot(current.generation + 1, inputs.zones, inputs.gslb, current.gslb.health, current.gslb.admin, inputs.geo, current.gslb.load, current.defence, inputs.dnssec?.snapshot))
    loadLog.info({ signed: [...(inputs.dnssec?.snapshot.zones.values() ?? [])].map((z) => `${nameToText(z.signer)} by ${z.keys.map((k) => k.tag).join(',')}`) }, 'zones signed again')
    scheduleSigning()
    setImmediate(releaseMemory)
  }
  const scheduleSigning = (): void => {
    const at = inputs.dnssec?.nextEventS
    signingAlarm.set(at === undefined ? undefined : at * 1000, () => void write(resign))
  }
  scheduleSigning()

  const reload = async (): Promise<ReloadResult> => {
    const result = await deps.load(inputs)
    const read = result.ok ? deps.readSettings(result.inputs.config) : undefined
    const problems = !result.ok ? result.problems : [
      ...result.zoneProblems,
      ...restartOnlyChanges(inputs.config, result.inputs.config, result.inputs.locate),
      ...(read && !read.ok ? [{ code: 'config' as const, ...result.inputs.locate(['admin', 'tokens_file']), message: read.message }] : []),
    ]
    if (!result.ok || !read?.ok || problems.length > 0) {
      for (const problem of problems) loadLog.error({ problem: formatProblem(problem) }, 'reload rejected; still serving the last good configuration and zones')
      emit({ type: 'reload-rejected', at: deps.now().toISOString(), problems: problems.map(formatProblem) })
      metrics.countReload(false, deps.now().getTime())
      return { ok: false, problems, zones: describeZones(inputs.zones) }
    }
    const previous = inputs
    inputs = result.inputs
    settings = read.settings
    deps.setLogLevel(settings.logLevel)
    logZones(loadLog, inputs.zones)
    for (const warning of result.warnings) loadLog.warn(warning)
    swap((current) => buildSnapshot(current.generation + 1, inputs.zones, inputs.gslb, current.gslb.health, current.gslb.admin, inputs.geo, current.gslb.load, defence(inputs.config, current.defence), inputs.dnssec?.snapshot))
    scheduleSigning()
    await restartProbes(inputs.config)
    siteLoad.restart(inputs.config)
    announce()
    const zones = describeZones(inputs.zones)
    const changes = reloadChanges(previous, inputs)
    loadLog.info(changes, 'reloaded')
    for (const { zone, from, to } of serialsBackwards(changes)) loadLog.warn({ zone, from, to }, 'zone serial went backwards (RFC 1982): secondaries will keep their copy and ignore this version; raise the serial above the old one')
    emit({ type: 'reload', at: deps.now().toISOString(), zones, changes })
    metrics.countReload(true, deps.now().getTime())
    // Once this function's references to the old inputs are gone.
    setImmediate(releaseMemory)
    return { ok: true, zones, changes }
  }

  const lbEvent = async (event: LbEvent): Promise<LbEventResult> => {
    const site = inputs.gslb.sites.get(event.site)
    if (!site) return { ok: false, message: `no site named '${event.site}'` }
    if (!site.lbPair.some((n) => n.name === event.node)) return { ok: false, message: `site ${event.site} has no LB node named '${event.node}'` }
    const at = deps.now().toISOString()
    ownLbEvents.set(`${event.site}/${event.node}`, { state: event.state, at })
    // Applied here at once (a VIP's holder matters now); shared so every instance has it.
    const problem = fleet ? await fleet.shareLbEvent(event.site, event.node, event.state) : undefined
    healthLog.info({ site: event.site, node: event.node, state: event.state, ...(problem ? { problem } : {}) }, problem ? 'keepalived event (not shared with the fleet)' : 'keepalived event')
    emit({ type: 'lb', at, ...event })
    publishHealth()
    return { ok: true, shared: fleet !== undefined && problem === undefined, ...(problem ? { problem } : {}) }
  }

  // Knot's commit order: decide, make durable, then publish.
  const setAdminState = async (target: AdminTarget, change: AdminChange, actor: string): Promise<AdminResult> => {
    const at = deps.now().toISOString()
    const decided = await adminStore.commit((file) => decideAdminChange(file, inputs.gslb, store.current.gslb.health, target, change, actor, at))
    if (!decided.ok) {
      if (decided.status === 503) adminLog.error({ target, actor, problem: decided.message }, 'admin change refused: the fleet store cannot commit')
      return decided
    }
    swap((current) => withAdmin(current, adminView(adminStore.current())))
    const { record } = decided
    adminLog.info({ target: decided.target, state: record?.state ?? 'cleared', weight: record?.weight, until: record?.until, actor, reason: change.reason }, record ? 'admin state changed' : 'admin override cleared')
    emit({ type: 'admin', at, target: decided.target, record: record ?? null, actor, reason: change.reason })
    scheduleExpiry()
    return { ok: true, target: decided.target, record }
  }

  // Another instance's change, from etcd's watch: published at once (no queue: it is already committed).
  const applyRemoteAdmin = (changes: readonly RemoteAdminChange[]): void => {
    swap((current) => withAdmin(current, adminView(adminStore.current())))
    for (const { target, record, instance } of changes) {
      adminLog.info({ target, state: record?.state ?? 'cleared', weight: record?.weight, actor: record?.actor, reason: record?.reason, instance }, 'admin state changed at another instance')
      emit({ type: 'admin', at: record?.at ?? deps.now().toISOString(), target, record: record ?? null, instance })
    }
    scheduleExpiry()
  }

  // Maintenance windows: an override with `until` is cleared when that time passes, by this
  // instance (in a fleet, the first to get there; the others find it gone), with its own audit line.
  const expiryAlarm = createAlarm(() => deps.now().getTime())
  const expire = async (): Promise<void> => {
    let failed = false
    for (const { target, until } of expiredOverrides(adminStore.current(), deps.now().getTime())) {
      const result = await setAdminState(target, { clear: 'all', reason: `maintenance window ended (until ${until})`, force: true }, 'signpost (expiry)')
      if (!result.ok && result.status !== 404) {
        failed = true
        adminLog.error({ target, until, problem: result.message }, 'could not end a maintenance window; trying again in a minute')
      }
    }
    scheduleExpiry(failed ? EXPIRY_RETRY_MS : 0)
  }
  /** `atLeastMs`: wait at least this long (a retry after a failed clear, as etcd may be away). */
  const scheduleExpiry = (atLeastMs = 0): void => {
    if (quiesced) return
    const at = nextExpiry(adminStore.current())
    expiryAlarm.set(at === undefined ? undefined : Math.max(at, deps.now().getTime() + atLeastMs), () => void write(expire))
  }
  scheduleExpiry()

  metrics.watchLbNodes(lbEvents)
  metrics.watchSiteLoad(() => new Map([...siteLoad.status()].flatMap(([site, load]) => (load.utilisation === null ? [] : [[site, load.utilisation] as const]))))
  fleet?.onChange(publishHealth)
  if (fleet) metrics.watchFleet(() => ({ connected: fleet.link().connected, members: fleet.members().length, writes: fleet.writes() }))
  announce()
  adminStore.onRemoteChange(applyRemoteAdmin)
  // What etcd changed while the first probe round ran.
  publishHealth()

  const probes = () => {
    // In a fleet, each state is the fleet's verdict (what the answers use); the probe details are this instance's.
    const now = health()
    return targets.map((target) => ({ target, health: now.health.get(target.id) ?? INITIAL_HEALTH, fleet: now.views?.get(target.id) }))
  }
  const fleetStatus = () => {
    if (!fleet) return undefined
    const link = fleet.link()
    return { instance: fleet.instance, connected: link.connected, problem: link.problem ?? null, since: link.since, rule: describeFleetRule(fleetRule()), verdicts: link.connected ? 'fleet' : 'own (etcd away)' }
  }
  // The GeoIP database's address space, walked once per database (a reload that re-reads it walks again).
  let population: { source: GeoSource; walked: Promise<Population> } | undefined
  const populationOf = (source: GeoSource): Promise<Population> => {
    if (population?.source !== source) population = { source, walked: ipv4Population(source) }
    return population.walked
  }
  const control: Control = {
    zonesLoaded: () => store.current.zones.byKey.size,
    status: () => statusView(store.current, probes(), lbEvents(), adminStore.current(), siteLoad.status(), fleetStatus()),
    explain: (request) => explainAnswer(store.current, probes(), adminStore.current(), request),
    simulate: async (changes) => {
      const snapshot = store.current
      const population = snapshot.geo ? await populationOf(snapshot.geo.source) : undefined
      return simulateChanges(snapshot, adminStore.current(), population, changes, deps.now().toISOString())
    },
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
    fleet: () => (fleet ? fleetView(fleet.instance, fleet.link(), fleet.members()) : undefined),
    audit: (limit) => adminStore.audit(limit),
  }
  return {
    control,
    store,
    replicateTo(next) {
      replicas = next
      // Snapshots published while they started (a health transition) are caught up here.
      next.follow(store.current)
    },
    async quiesce() {
      quiesced = true
      expiryAlarm.clear()
      await queue
    },
    stop() {
      signingAlarm.clear()
      expiryAlarm.clear()
      prober?.stop()
      siteLoad.stop()
    },
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

/** Each GSLB name and family whose answering mode (healthy, fail-open, …) differs from `before`'s; from undefined: new. */
function pickChanges(before: Snapshot | undefined, after: Snapshot): { name: string; family: 'v4' | 'v6'; from: string | undefined; reason: string; servers: string[] }[] {
  return [...after.gslb.tables].flatMap(([key, tables]) => {
    const old = before?.gslb.tables.get(key)
    return (['v4', 'v6'] as const).flatMap((family) => {
      const table = tables[family]
      if (!table || old?.[family]?.reason === table.reason) return []
      return [{ name: tables.name.fqdn, family, from: old?.[family]?.reason, reason: table.reason, servers: table.servers.map((s) => s.address) }]
    })
  })
}

function logPick(log: Logger, line: { reason: string }): void {
  if (line.reason === 'healthy') log.info(line, 'gslb answers')
  else log.warn(line, 'gslb answers without a healthy server')
}
