// Every DNS listen address checked free here, then bound with reusePort: on this thread (workers:
// 0) or by each DNS worker thread. UDP and TCP share one port, also when port 0 is asked for.
// reusePort is also what lets `serve --replace` bind beside a running Signpost: with `replace`, the
// free check is skipped and the new sockets join the old ones' group until the old process closes.

import type dgram from 'node:dgram'
import type { Logger } from 'pino'
import { formatAddress, parseListenAddress, type ListenAddress } from '../common/address.ts'
import { StartupError } from '../common/startup-error.ts'
import type { QueryCounter } from '../metrics/query-counts.ts'
import type { Store } from '../query/store.ts'
import { startDnsWorkers, type DnsWorkers } from './dns-workers.ts'
import { createPacketHandler, type PacketHandler } from './handle-packet.ts'
import { listenTcp, type TcpListener, type TcpOptions } from './tcp.ts'
import { closeUdp, listenUdp } from './udp.ts'

export type BoundAddress = { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }

export type DnsListeners = {
  readonly addresses: readonly BoundAddress[]
  /** The DNS worker threads, when there are any. */
  readonly workers: DnsWorkers | undefined
  close(): Promise<void>
}

export type DnsListenOptions = {
  readonly listen: readonly string[]
  /** DNS worker threads; 0 answers on this thread, from `store`, counting into `counter`. */
  readonly workers: number
  readonly tcp: TcpOptions
  readonly logQueries: boolean
  readonly logger: Logger
  readonly store: Store
  readonly counter: QueryCounter
  /** Bind beside the sockets a Signpost being replaced holds (no free check). */
  readonly replace?: boolean
}

export async function listenDns(options: DnsListenOptions): Promise<DnsListeners> {
  const { logger } = options
  const udpSockets: dgram.Socket[] = []
  const tcpServers: TcpListener[] = []
  const addresses: BoundAddress[] = []
  let workers: DnsWorkers | undefined
  const close = async (): Promise<void> => {
    await Promise.all([workers?.close(), ...udpSockets.map(closeUdp), ...tcpServers.map((s) => s.close())])
  }
  try {
    const handle = options.workers === 0 ? createPacketHandler(options.store, logger, options.logQueries, options.counter) : undefined
    const resolved: ListenAddress[] = []
    for (const text of options.listen) {
      const address = listenAddress(text)
      let port = address.port
      // A bind without reusePort checks that no one holds the address (and fixes port 0), then lets go.
      if (!options.replace || port === 0) {
        const { udp, tcp } = await bindPair(address, options.tcp, logger)
        port = udp.address().port
        await Promise.all([closeUdp(udp), tcp.close()])
      }
      if (handle) {
        const tcp = await listenTcp(address.host, port, handle, options.tcp, logger, true).catch((error: NodeJS.ErrnoException) => { throw bindError('tcp', { ...address, port }, error) })
        tcpServers.push(tcp)
        udpSockets.push(await listenUdp(address.host, port, address.family, handle, logger, true).catch((error: NodeJS.ErrnoException) => { throw bindError('udp', { ...address, port }, error) }))
      }
      resolved.push({ ...address, port })
      addresses.push({ transport: 'udp', host: address.host, port }, { transport: 'tcp', host: address.host, port })
    }
    if (!handle) {
      workers = await startDnsWorkers({ count: options.workers, listen: resolved, tcp: options.tcp, logQueries: options.logQueries, logger, current: () => options.store.current }).catch((error: Error) => {
        throw new StartupError(`cannot start the DNS worker threads: ${error.message}`)
      })
    }
  } catch (error) {
    await close()
    throw error
  }
  return { addresses, workers, close }
}

/** A listen address as operators write it (`127.0.0.1:53`, `[::1]:53`), or a StartupError. */
export function listenAddress(text: string): ListenAddress {
  const parsed = parseListenAddress(text)
  if (!parsed.ok) throw new StartupError(parsed.message)
  return parsed.address
}

/** Binds TCP, then UDP on the same port (so port 0 gives one port for both), retrying if UDP finds it taken; the check's sockets answer nothing. */
async function bindPair(address: ListenAddress, tcpOptions: TcpOptions, logger: Logger): Promise<{ udp: dgram.Socket; tcp: TcpListener }> {
  const handle: PacketHandler = () => undefined
  for (let attempt = 0; ; attempt++) {
    let tcp: TcpListener
    try {
      tcp = await listenTcp(address.host, address.port, handle, tcpOptions, logger)
    } catch (error) {
      throw bindError('tcp', address, error as NodeJS.ErrnoException)
    }
    try {
      return { udp: await listenUdp(address.host, tcp.port, address.family, handle, logger), tcp }
    } catch (error) {
      await tcp.close()
      if (address.port !== 0 || attempt >= 4) throw bindError('udp', { ...address, port: tcp.port }, error as NodeJS.ErrnoException)
    }
  }
}

function bindError(transport: string, address: ListenAddress, error: NodeJS.ErrnoException): StartupError {
  const why: Record<string, string> = { EADDRINUSE: 'address already in use', EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)', EADDRNOTAVAIL: 'no such local address' }
  return new StartupError(`cannot listen on ${transport} ${formatAddress(address.host, address.port)}: ${error.code ? (why[error.code] ?? error.code) : error.message}`)
}
