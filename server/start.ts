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
import { formatProblem, type Problem } from './problem.ts'
import { buildSnapshot } from './state/snapshot.ts'
import { createStore, type Store } from './state/store.ts'
import { loadZoneFolder } from './zone/load-zones.ts'

export type StartOptions = {
  readonly zonesDir: string
  readonly listen: readonly string[]
  /** Admin API address, or undefined for none. */
  readonly admin: string | undefined
  readonly tcp: TcpOptions
  readonly logQueries: boolean
  readonly logger: Logger
}

export type BoundAddress = { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }

export type ReloadResult = { readonly ok: boolean; readonly problems: readonly Problem[]; readonly zones: readonly { name: string; serial: number; file: string }[] }

export type RunningServer = {
  readonly addresses: readonly BoundAddress[]
  readonly adminAddress: string | undefined
  readonly store: Store
  /** Re-reads the zone folder; a zone that fails keeps its last good version. */
  reload(): ReloadResult
  close(): Promise<void>
}

/** A start-up failure an operator must fix (bad address, port taken, no permission). */
export class StartError extends Error {}

export async function start(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger
  const zoneLog = logger.child({ component: 'zone' })
  let zonesByFile = new Map<string, CompiledZone>()
  let generation = 0
  const store = createStore(buildSnapshot(generation, []))

  const reload = (): ReloadResult => {
    const folder = loadZoneFolder(options.zonesDir)
    if (!folder.ok) {
      for (const problem of folder.problems) zoneLog.error({ problem: formatProblem(problem) }, 'zone folder not loaded; serving the last good zones')
      return { ok: false, problems: folder.problems, zones: describeZones(zonesByFile) }
    }
    const next = new Map<string, CompiledZone>()
    const problems: Problem[] = []
    for (const load of folder.loads) {
      if (load.ok) {
        next.set(load.file, load.zone)
        zoneLog.info({ zone: nameToText(load.zone.origin), serial: load.zone.serial, file: load.file, nodes: load.zone.nodes.size }, 'zone loaded')
        continue
      }
      problems.push(...load.problems)
      const previous = zonesByFile.get(load.file)
      if (previous) next.set(load.file, previous)
      for (const problem of load.problems) zoneLog.error({ problem: formatProblem(problem) }, previous ? 'zone rejected; serving its last good version' : 'zone rejected')
    }
    zonesByFile = next
    store.publish(buildSnapshot(++generation, [...next.values()]))
    return { ok: problems.length === 0, problems, zones: describeZones(next) }
  }

  reload()
  const handle = createPacketHandler(store, logger.child({ component: 'dns' }), options.logQueries)
  const udpSockets: dgram.Socket[] = []
  const tcpServers: TcpListener[] = []
  const addresses: BoundAddress[] = []
  let admin: Awaited<ReturnType<typeof buildAdminApp>> | undefined
  let adminAddress: string | undefined

  const close = async (): Promise<void> => {
    await Promise.all([
      ...udpSockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...tcpServers.map((s) => s.close()),
      admin?.close(),
    ])
  }

  try {
    for (const text of options.listen) {
      const address = listenAddress(text)
      const { udp, tcp } = await bindPair(address, handle, options.tcp, logger)
      udpSockets.push(udp)
      tcpServers.push(tcp)
      const port = udp.address().port
      addresses.push({ transport: 'udp', host: address.host, port }, { transport: 'tcp', host: address.host, port })
    }
    if (options.admin) {
      const address = listenAddress(options.admin)
      admin = buildAdminApp({ zonesLoaded: () => store.current.zones.byKey.size, logger: logger.child({ component: 'admin' }) })
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
  logger.info({ dns: addresses.map((a) => `${a.transport} ${formatAddress(a.host, a.port)}`), admin: adminAddress, zones: describeZones(zonesByFile).map((z) => z.name) }, 'signpost started')
  return { addresses, adminAddress, store, reload, close }
}

function describeZones(zones: ReadonlyMap<string, CompiledZone>): { name: string; serial: number; file: string }[] {
  return [...zones].map(([file, z]) => ({ name: nameToText(z.origin), serial: z.serial, file }))
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
