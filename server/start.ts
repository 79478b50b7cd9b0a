// start(options) → a running server: inputs loaded, the control plane made (first probe round
// done), listeners bound, admin API up. No process.exit here; tests call it with port 0 and
// close() it. What happens after start, every change included, is the control plane's.

import type net from 'node:net'
import type { Logger } from 'pino'
import { buildAdminApp } from '../admin/app.ts'
import { formatAddress } from './common/address.ts'
import { fileLimit } from './common/file-limit.ts'
import { formatProblem, type Problem } from './common/problem.ts'
import { releaseMemory } from './common/release-memory.ts'
import { StartupError } from './common/startup-error.ts'
import type { Config } from './config/schema.ts'
import { planServers } from './gslb/tables.ts'
import { createChecker } from './health/checker.ts'
import { createLoadPoller } from './load/poller.ts'
import { DEFAULT_MAX_EXEC_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT } from './health/defaults.ts'
import { createMetrics } from './metrics/metrics.ts'
import type { DnsWorkers } from './net/dns-workers.ts'
import { listenAddress, listenDns, type BoundAddress, type DnsListeners } from './net/listeners.ts'
import type { TcpOptions } from './net/tcp.ts'
import type { Store } from './query/store.ts'
import { createControlPlane, describeZones, logZones, type Control } from './state/control.ts'
import { loadInputs, type Sources } from './state/load-inputs.ts'
import { openOperatorStore, VERSION } from './state/operator-store.ts'
import type { LiveSettings, SettingsResult } from './state/settings.ts'

export type StartOptions = {
  readonly sources: Sources
  /** Where operator state is persisted, and its audit log. */
  readonly stateFile: string
  readonly auditLog: string
  /** This instance's name in a fleet (--instance), over the config's. */
  readonly instance?: string | undefined
  readonly listen: readonly string[]
  /** Admin API address, or undefined for none. */
  readonly admin: string | undefined
  /** Admin tokens, protect_reads and log level as the config gave them at start. */
  readonly settings: LiveSettings
  /** The same from a reloaded config (its tokens file read again). */
  readonly readSettings: (config: Config) => SettingsResult
  readonly setLogLevel: (level: string) => void
  readonly tcp: TcpOptions
  /** DNS worker threads answering on every listen address (reusePort); 0 answers on this thread. */
  readonly workers: number
  readonly logQueries: boolean
  readonly logger: Logger
  /** `serve --replace`: once the zones load, the running Signpost hands its state over (this resolves), and this one binds beside it. */
  readonly takeOver?: () => Promise<void>
}

export type RunningServer = {
  readonly addresses: readonly BoundAddress[]
  readonly adminAddress: string | undefined
  /** Everything the admin API can do, for SIGHUP and tests. */
  readonly control: Control
  readonly store: Store
  /** The DNS worker threads, when there are any. */
  readonly dnsWorkers: DnsWorkers | undefined
  /** For a replacement: the admin API closed, operator writes done, the state file let go; DNS answers on until close(). */
  handOver(): Promise<void>
  close(): Promise<void>
}

/** The first load found problems that leave nothing sensible to serve (config, GeoIP, GSLB). */
export class LoadError extends Error {
  readonly problems: readonly Problem[]
  constructor(problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
  }
}

/** The admin API's share of the open-files limit: a quarter of it, at most 256 (dashboards' event streams included). */
function adminConnections(): number {
  return Math.max(16, Math.min(256, Math.floor((fileLimit()?.soft ?? 1024) / 4)))
}

export async function start(options: StartOptions): Promise<RunningServer> {
  const { logger } = options
  const loadLog = logger.child({ component: 'load' })
  const first = await loadInputs(options.sources)
  if (!first.ok) throw new LoadError(first.problems)
  logZones(loadLog, first.inputs.zones)
  for (const problem of first.zoneProblems) loadLog.error({ problem: formatProblem(problem) }, 'zone rejected')
  for (const warning of first.warnings) loadLog.warn(warning)
  await options.takeOver?.()
  const operator = await openOperatorStore({ config: first.inputs.config, configFile: options.sources.configFile, stateFile: options.stateFile, auditLog: options.auditLog, instance: options.instance, logger })
  // Metrics read the store only when scraped, so they can be made before it.
  const metrics = createMetrics(() => plane.store.current, planServers, { version: VERSION })
  const plane = await createControlPlane({
    inputs: first.inputs,
    load: (previous) => loadInputs(options.sources, previous),
    adminStore: operator.adminStore,
    fleet: operator.fleet,
    prober: ({ config, targets, previous, onTransitions, onFault }) => createChecker({
      targets, previous, onTransitions, onFault, random: Math.random,
      sourceAddress: config.health?.source_address,
      maxInFlight: config.health?.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
      maxExecInFlight: config.health?.max_exec_in_flight ?? DEFAULT_MAX_EXEC_IN_FLIGHT,
      onProbe: (target, result) => metrics.observeProbe(target, result),
    }),
    loadPoller: createLoadPoller,
    settings: options.settings,
    readSettings: options.readSettings,
    setLogLevel: options.setLogLevel,
    metrics,
    now: () => new Date(),
    logger,
  })
  releaseMemory()

  let dns: DnsListeners | undefined
  let admin: ReturnType<typeof buildAdminApp> | undefined
  let adminAddress: string | undefined
  let handedOver: Promise<void> | undefined
  const handOver = (): Promise<void> => (handedOver ??= (async () => {
    await admin?.close()
    await plane.quiesce()
    await operator.close()
  })())
  const close = async (): Promise<void> => {
    plane.stop()
    await Promise.all([dns?.close(), handOver()])
  }
  try {
    dns = await listenDns({ listen: options.listen, workers: options.workers, tcp: options.tcp, logQueries: options.logQueries, logger: logger.child({ component: 'dns' }), store: plane.store, counter: metrics.queries, replace: options.takeOver !== undefined })
    const workers = dns.workers
    if (workers) {
      plane.replicateTo(workers)
      metrics.watchThreads(() => workers.threads())
    }
    if (options.admin) {
      const address = listenAddress(options.admin)
      admin = buildAdminApp({ control: plane.control, maxConnections: adminConnections(), logger: logger.child({ component: 'admin' }) })
      await admin.listen({ host: address.host, port: address.port }).catch((error: NodeJS.ErrnoException) => {
        throw new StartupError(`cannot listen for the admin API on ${options.admin}: ${error.code ?? error.message}`)
      })
      adminAddress = formatAddress(address.host, (admin.server.address() as net.AddressInfo).port)
    }
  } catch (error) {
    await close()
    throw error
  }
  const { zones, gslb } = plane.store.current
  const { addresses } = dns
  logger.info({ dns: addresses.map((a) => `${a.transport} ${formatAddress(a.host, a.port)}`), workers: options.workers, admin: adminAddress, zones: describeZones(zones).map((z) => z.name), gslb: gslb.config.names.map((n) => n.fqdn) }, 'signpost started')
  return { addresses, adminAddress, control: plane.control, store: plane.store, dnsWorkers: dns.workers, handOver, close }
}
