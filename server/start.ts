// start(options) → a running server: zones loaded and compiled, listeners bound, admin API up.
// No process.exit here; tests call it with port 0 and close() it.

import type dgram from 'node:dgram'
import type net from 'node:net'
import type { Logger } from 'pino'
import { buildAdminApp } from '../admin/app.ts'
import type { CompiledZone } from './dns/compile.ts'
import { nameToText } from './dns/name.ts'
import { createPacketHandler } from './net/handle-packet.ts'
import { parseListenAddress, formatAddress, type ListenAddress } from './net/address.ts'
import { listenTcp, type TcpListener, type TcpOptions } from './net/tcp.ts'
import { listenUdp } from './net/udp.ts'
import { startDnsWorkers, type DnsWorkers } from './net/dns-workers.ts'
import { releaseMemory } from './release-memory.ts'
import { formatProblem, type Problem } from './problem.ts'
import { buildSnapshot, withAdmin, withHealth, type Snapshot } from './state/snapshot.ts'
import { adminView, createAdminControl, type AdminChange, type AdminResult, type AdminTarget } from './state/admin-control.ts'
import { loadAdminFile } from './state/admin-state-file.ts'
import { statusView, type StatusView } from './state/explain.ts'
import { reloadChanges, type ReloadChanges } from './state/reload-changes.ts'
import { createMetrics } from './metrics.ts'
import { planServers } from './gslb/tables.ts'
import { createChecker, type Checker } from './health/checker.ts'
import { DEFAULT_MAX_IN_FLIGHT } from './health/defaults.ts'
import { healthView } from './health/health-view.ts'
import type { KeepalivedState } from './health/lb-pair.ts'
import { probeTargets } from './health/targets.ts'
import { INITIAL_HEALTH, type ProbeTarget, type TargetHealth } from './health/types.ts'
import type { HealthView } from './gslb/types.ts'
import { loadInputs, type Inputs, type Sources } from './state/load-inputs.ts'
import { createStore, type Store } from './state/store.ts'

export type StartOptions = {
  readonly sources: Sources
  /** Where operator state is persisted, and its audit log. */
  readonly stateFile: string
  readonly auditLog: string
  readonly listen: readonly string[]
  /** Admin API address, or undefined for none. */
  readonly admin: string | undefined
  /** Named bearer tokens for the admin API; none turns writes off. */
  readonly adminTokens: ReadonlyMap<string, string>
  /** Reads of the admin API need a token too. */
  readonly protectReads: boolean
  readonly tcp: TcpOptions
  /** DNS worker threads answering on every listen address (reusePort); 0 answers on this thread. */
  readonly workers: number
  readonly logQueries: boolean
  readonly logger: Logger
}

export type BoundAddress = { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }

export type ZoneSummary = { readonly name: string; readonly serial: number; readonly file: string }

/** A reload applies everything or, on any problem, nothing (`zones` then lists what is still served). */
export type ReloadResult =
  | { readonly ok: true; readonly zones: readonly ZoneSummary[]; readonly changes: ReloadChanges }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly zones: readonly ZoneSummary[] }

export type RunningServer = {
  readonly addresses: readonly BoundAddress[]
  readonly adminAddress: string | undefined
  readonly store: Store
  /** The DNS worker threads, when there are any. */
  readonly dnsWorkers: DnsWorkers | undefined
  /** Re-reads config, zones and GeoIP database; any problem leaves everything as it was. */
  reload(): Promise<ReloadResult>
  /** A keepalived notify event (MASTER/BACKUP/FAULT/STOP) from an LB node. */
  lbEvent(event: LbEvent): LbEventResult
  /** An operator's change of a server's or site's admin state or weight: durable before it returns. */
  setAdminState(target: AdminTarget, change: AdminChange, actor: string): AdminResult
  /** Probe state of every target, for status views. */
  probes(): readonly { target: ProbeTarget; health: TargetHealth }[]
  status(): StatusView
  /** Health transitions, admin changes, keepalived events and reloads as they happen. */
  subscribe(listener: (event: ControlEvent) => void): () => void
  close(): Promise<void>
}

/** What the admin API may ask of the server: the only thing admin/ uses. */
export type Control = {
  zonesLoaded(): number
  status(): StatusView
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; text: string }>
  reload(): Promise<ReloadResult>
  lbEvent(event: LbEvent): LbEventResult
  setAdminState(target: AdminTarget, change: AdminChange, actor: string): AdminResult
  subscribe(listener: (event: ControlEvent) => void): () => void
  /** Resolves once every thread answering DNS uses the latest snapshot (writes reply after it). */
  applied(): Promise<void>
}

export type ControlEvent = { readonly type: 'health' | 'admin' | 'lb' | 'reload'; readonly at: string; readonly [key: string]: unknown }

export type LbEvent = { readonly site: string; readonly node: string; readonly state: KeepalivedState }
export type LbEventResult = { readonly ok: true } | { readonly ok: false; readonly message: string }

/** A start-up failure an operator must fix (bad address, port taken, no permission). */
export class StartError extends Error {}

/** The first load found problems that leave nothing sensible to serve (config, GeoIP, GSLB). */
export class LoadError extends Error {
  readonly problems: readonly Problem[]
  constructor(problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
  }
}

export async function start(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger
  const loadLog = logger.child({ component: 'load' })
  const first = await loadInputs(options.sources)
  if (!first.ok) throw new LoadError(first.problems)
  let inputs = first.inputs
  logLoad(loadLog, first.inputs, first.zoneProblems)
  const adminLoad = loadAdminFile(options.stateFile)
  if (!adminLoad.ok) logger.error({ file: options.stateFile, setAside: adminLoad.setAside, problem: adminLoad.problem }, 'admin state file unreadable: set aside, starting with no overrides')
  // Metrics read the store only when scraped, so they can be made before it.
  const metrics = createMetrics(() => store.current, planServers)
  let dnsWorkers: DnsWorkers | undefined
  const store = createStore(buildSnapshot(1, inputs.zones, inputs.gslb, new Map(), adminView(adminLoad.file), inputs.geo), (next, previous) => {
    metrics.countSnapshot()
    dnsWorkers?.follow(previous, next)
  })
  releaseMemory()
  const gslbLog = logger.child({ component: 'gslb' })
  logPicks(gslbLog, undefined, store.current)
  /** Swaps in the snapshot `change` makes of the current one, and logs names whose reason changed. */
  const swap = (change: (current: Snapshot) => Snapshot): void => {
    const before = store.current
    store.publish(change(before))
    logPicks(gslbLog, before, store.current)
  }
  const adminControl = createAdminControl({
    initial: adminLoad.file,
    stateFile: options.stateFile,
    auditLog: options.auditLog,
    gslb: () => inputs.gslb,
    now: () => new Date(),
    publish: (view) => swap((current) => withAdmin(current, view)),
  })
  const setAdminState = (target: AdminTarget, change: AdminChange, actor: string): AdminResult => {
    const result = adminControl.apply(target, change, actor)
    if (result.ok) {
      logger.child({ component: 'admin' }).info({ target, state: result.record.state, weight: result.record.weight, actor, reason: change.reason }, 'admin state changed')
      emit({ type: 'admin', at: result.record.at, target, record: result.record })
    }
    return result
  }
  const healthLog = logger.child({ component: 'health' })
  const listeners = new Set<(event: ControlEvent) => void>()
  const emit = (event: ControlEvent): void => {
    for (const listener of listeners) listener(event)
  }

  // Health: the checker's verdicts plus keepalived events become the snapshot's HealthView.
  let targets: ProbeTarget[] = []
  let checker: Checker | undefined
  const lbEvents = new Map<string, KeepalivedState>()
  const publishHealth = (): void => {
    const view = healthView(targets, checker?.health() ?? new Map(), lbEvents, inputs.gslb.sites)
    if (!sameView(view, store.current.gslb.health)) swap((current) => withHealth(current, view))
  }
  const startChecker = async (config: Inputs['config']): Promise<void> => {
    const previous = checker?.health() ?? new Map<string, TargetHealth>()
    checker?.stop()
    targets = probeTargets(config)
    const byId = new Map(targets.map((t) => [t.id, t]))
    checker = createChecker({
      targets,
      previous,
      sourceAddress: config.health?.source_address,
      maxInFlight: config.health?.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
      random: Math.random,
      onProbe: (target, result) => metrics.observeProbe(target, result),
      onTransitions: (transitions) => {
        for (const t of transitions) {
          metrics.countTransition(t.to)
          const target = byId.get(t.id)
          const line = { target: target?.kind, address: target?.address, site: target?.site, node: target?.node, from: t.from, to: t.to, reason: t.reason }
          healthLog.info(line, 'health transition')
          emit({ type: 'health', at: new Date(t.at).toISOString(), ...line })
        }
        publishHealth()
      },
    })
    await checker.start()
    publishHealth()
  }
  // One full probe round before the listeners open, so the first answers are already health-aware.
  await startChecker(inputs.config)

  const reload = async (): Promise<ReloadResult> => {
    const result = await loadInputs(options.sources)
    const problems = result.ok ? result.zoneProblems : result.problems
    if (!result.ok || problems.length > 0) {
      for (const problem of problems) loadLog.error({ problem: formatProblem(problem) }, 'reload rejected; still serving the last good configuration and zones')
      return { ok: false, problems, zones: describeZones(inputs.zonesByFile) }
    }
    const previous = inputs
    inputs = result.inputs
    logLoad(loadLog, inputs, [])
    swap((current) => buildSnapshot(current.generation + 1, inputs.zones, inputs.gslb, current.gslb.health, current.gslb.admin, inputs.geo))
    await startChecker(inputs.config)
    const zones = describeZones(inputs.zonesByFile)
    const changes = reloadChanges(previous, inputs)
    loadLog.info(changes, 'reloaded')
    emit({ type: 'reload', at: new Date().toISOString(), zones, changes })
    // Once this function's references to the old inputs are gone.
    setImmediate(releaseMemory)
    return { ok: true, zones, changes }
  }

  const lbEvent = (event: LbEvent): LbEventResult => {
    const site = inputs.gslb.sites.get(event.site)
    if (!site) return { ok: false, message: `no site named '${event.site}'` }
    if (!site.lbPair.some((n) => n.name === event.node)) return { ok: false, message: `site ${event.site} has no LB node named '${event.node}'` }
    lbEvents.set(`${event.site}/${event.node}`, event.state)
    healthLog.info({ site: event.site, node: event.node, state: event.state }, 'keepalived event')
    emit({ type: 'lb', at: new Date().toISOString(), ...event })
    publishHealth()
    return { ok: true }
  }
  const probes = () => targets.map((target) => ({ target, health: checker?.health().get(target.id) ?? INITIAL_HEALTH }))
  const control: Control = {
    zonesLoaded: () => store.current.zones.byKey.size,
    status: () => statusView(store.current, probes(), lbEvents, adminControl.current()),
    metrics: async () => {
      const taken = (await dnsWorkers?.takeCounts()) ?? []
      taken.forEach((totals, worker) => totals && metrics.addQueryTotals(worker, totals))
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }
    },
    reload,
    lbEvent,
    setAdminState,
    applied: async () => dnsWorkers?.synced(),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }

  const dnsLog = logger.child({ component: 'dns' })
  const udpSockets: dgram.Socket[] = []
  const tcpServers: TcpListener[] = []
  const addresses: BoundAddress[] = []
  let admin: Awaited<ReturnType<typeof buildAdminApp>> | undefined
  let adminAddress: string | undefined

  const close = async (): Promise<void> => {
    checker?.stop()
    await Promise.all([
      dnsWorkers?.close(),
      ...udpSockets.map(closeUdp),
      ...tcpServers.map((s) => s.close()),
      admin?.close(),
    ])
  }

  try {
    const handle = options.workers === 0 ? createPacketHandler(store, dnsLog, options.logQueries, metrics.queries) : undefined
    const resolved: ListenAddress[] = []
    for (const text of options.listen) {
      const address = listenAddress(text)
      // With workers, this thread binds only to check the address is free and to fix port 0, then lets go.
      const { udp, tcp } = await bindPair(address, handle ?? (() => undefined), options.tcp, logger)
      const port = udp.address().port
      if (handle) {
        udpSockets.push(udp)
        tcpServers.push(tcp)
      } else {
        await Promise.all([closeUdp(udp), tcp.close()])
      }
      resolved.push({ ...address, port })
      addresses.push({ transport: 'udp', host: address.host, port }, { transport: 'tcp', host: address.host, port })
    }
    if (!handle) {
      dnsWorkers = await startDnsWorkers({ count: options.workers, listen: resolved, tcp: options.tcp, logQueries: options.logQueries, logger: dnsLog, current: () => store.current }).catch((error: Error) => {
        throw new StartError(`cannot start the DNS worker threads: ${error.message}`)
      })
    }
    if (options.admin) {
      const address = listenAddress(options.admin)
      admin = buildAdminApp({ control, tokens: options.adminTokens, protectReads: options.protectReads, logger: logger.child({ component: 'admin' }) })
      await admin.listen({ host: address.host, port: address.port }).catch((error: NodeJS.ErrnoException) => {
        throw new StartError(`cannot listen for the admin API on ${options.admin}: ${error.code ?? error.message}`)
      })
      const bound = admin.server.address() as net.AddressInfo
      adminAddress = formatAddress(address.host, bound.port)
    }
  } catch (error) {
    await close()
    throw error
  }
  logger.info({ dns: addresses.map((a) => `${a.transport} ${formatAddress(a.host, a.port)}`), workers: options.workers, admin: adminAddress, zones: describeZones(inputs.zonesByFile).map((z) => z.name), gslb: inputs.gslb.names.map((n) => n.fqdn) }, 'signpost started')
  return { addresses, adminAddress, store, dnsWorkers, reload, lbEvent, setAdminState, probes, status: control.status, subscribe: control.subscribe, close }
}

function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()))
}

function sameView(a: HealthView, b: HealthView): boolean {
  if (a.size !== b.size) return false
  for (const [address, state] of a) if (b.get(address) !== state) return false
  return true
}

function describeZones(zones: ReadonlyMap<string, CompiledZone>): ZoneSummary[] {
  return [...zones].map(([file, z]) => ({ name: nameToText(z.origin), serial: z.serial, file }))
}

/** One line per zone loaded, one per zone problem (at start: that zone is not served). */
function logLoad(log: Logger, inputs: Inputs, zoneProblems: readonly Problem[]): void {
  for (const [file, zone] of inputs.zonesByFile) log.info({ zone: nameToText(zone.origin), serial: zone.serial, file, nodes: zone.nodes.size }, 'zone loaded')
  for (const problem of zoneProblems) log.error({ problem: formatProblem(problem) }, 'zone rejected')
}

/** Logs each GSLB name and family whose reason (healthy, fail-open, …) changed. */
export function logPicks(log: Logger, before: Snapshot | undefined, after: Snapshot): void {
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

function listenAddress(text: string): ListenAddress {
  const parsed = parseListenAddress(text)
  if (!parsed.ok) throw new StartError(parsed.message)
  return parsed.address
}

/** Binds TCP, then UDP on the same port (so port 0 gives one port for both), retrying if UDP finds it taken. */
async function bindPair(address: ListenAddress, handle: ReturnType<typeof createPacketHandler>, tcpOptions: TcpOptions, logger: Logger): Promise<{ udp: dgram.Socket; tcp: TcpListener }> {
  for (let attempt = 0; ; attempt++) {
    let tcp: TcpListener
    try {
      tcp = await listenTcp(address.host, address.port, handle, tcpOptions, logger)
    } catch (error) {
      throw bindError('tcp', address, error as NodeJS.ErrnoException)
    }
    const port = tcp.port
    try {
      const udp = await listenUdp(address.host, port, address.family, handle, logger)
      return { udp, tcp }
    } catch (error) {
      await tcp.close()
      if (address.port !== 0 || attempt >= 4) throw bindError('udp', { ...address, port }, error as NodeJS.ErrnoException)
    }
  }
}

function bindError(transport: string, address: ListenAddress, error: NodeJS.ErrnoException): StartError {
  const why: Record<string, string> = { EADDRINUSE: 'address already in use', EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)', EADDRNOTAVAIL: 'no such local address' }
  return new StartError(`cannot listen on ${transport} ${formatAddress(address.host, address.port)}: ${error.code ? (why[error.code] ?? error.code) : error.message}`)
}
