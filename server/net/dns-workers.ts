// The main thread's side of the DNS worker threads: start N of them on the same listen addresses
// (reusePort: the kernel spreads queries), send each the snapshot changes the main thread publishes,
// collect their query counts for metrics, forward their log lines, and replace a thread that dies.

import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { DefenceSettings } from '../abuse/settings.ts'
import type { GeoSource } from '../geo/geo-db.ts'
import type { GslbConfig } from '../gslb/build.ts'
import type { AdminView, HealthView, LoadView } from '../gslb/types.ts'
import type { Snapshot, SnapshotDnssec } from '../query/snapshot.ts'
import type { ZoneSet } from '../zone/zone-set.ts'
import type { ListenAddress } from '../common/address.ts'
import type { QueryTotals } from '../metrics/query-counts.ts'
import type { TcpOptions } from './tcp.ts'

/** Everything a worker builds its snapshot from (structured-cloneable; the GeoIP bytes are shared). */
export type WorkerState = {
  readonly generation: number
  readonly zones: ZoneSet
  readonly gslb: GslbConfig
  readonly health: HealthView
  readonly admin: AdminView
  readonly load: LoadView
  readonly geo: GeoSource | undefined
  readonly defence: DefenceSettings
  /** Sent with the zones in one message: its static signatures are keyed by the zones' RRsets. */
  readonly dnssec: SnapshotDnssec
}

export type WorkerInit = {
  readonly index: number
  readonly listen: readonly ListenAddress[]
  readonly tcp: TcpOptions
  readonly logQueries: boolean
  readonly logLevel: string
  /** Worker threads sharing the sockets: each rate-limits to its share of the rate. */
  readonly shares: number
}

export type ToWorker =
  | { readonly kind: 'inputs'; readonly state: WorkerState }
  | { readonly kind: 'health'; readonly health: HealthView }
  | { readonly kind: 'admin'; readonly admin: AdminView }
  | { readonly kind: 'load'; readonly load: LoadView }
  | { readonly kind: 'take-counts'; readonly id: number }
  | { readonly kind: 'sync'; readonly id: number }
  /** Close the sockets from inside the thread (between packets, with every reply sent), then say so. */
  | { readonly kind: 'close'; readonly id: number }

export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'counts'; readonly id: number; readonly totals: QueryTotals }
  | { readonly kind: 'synced'; readonly id: number }
  | { readonly kind: 'closed'; readonly id: number }

export type DnsWorkers = {
  /** The live worker threads, by worker number (a replaced one shows its successor). */
  threads(): readonly Worker[]
  /** Brings every worker to `snapshot`: each is sent what changed since the snapshot it was sent last. */
  follow(snapshot: Snapshot): void
  /** Query counts each worker took since the last call, by worker number. */
  takeCounts(): Promise<(QueryTotals | undefined)[]>
  /** Resolves once every worker has applied every change sent so far (a port delivers in order). */
  synced(): Promise<void>
  close(): Promise<void>
}

export type DnsWorkersOptions = {
  readonly count: number
  /** Addresses with their ports already resolved (port 0 chosen and checked free by the caller). */
  readonly listen: readonly ListenAddress[]
  readonly tcp: TcpOptions
  readonly logQueries: boolean
  readonly logger: Logger
  readonly current: () => Snapshot
}

const THREAD_URL = new URL('./dns-worker-thread.ts', import.meta.url)
const REPLY_TIMEOUT_MS = 1000

function workerState(snapshot: Snapshot): WorkerState {
  const { zones, gslb, geo, generation, defence, dnssec } = snapshot
  return { generation, zones, gslb: gslb.config, health: gslb.health, admin: gslb.admin, load: gslb.load, geo: geo?.source, defence, dnssec }
}

/** What a worker must be told so its snapshot matches `after`, in order. */
function workerChanges(before: Snapshot, after: Snapshot): ToWorker[] {
  if (after.zones !== before.zones || after.gslb.config !== before.gslb.config || after.geo !== before.geo || after.defence !== before.defence || after.dnssec !== before.dnssec) return [{ kind: 'inputs', state: workerState(after) }]
  const changes: ToWorker[] = []
  if (after.gslb.health !== before.gslb.health) changes.push({ kind: 'health', health: after.gslb.health })
  if (after.gslb.admin !== before.gslb.admin) changes.push({ kind: 'admin', admin: after.gslb.admin })
  if (after.gslb.load !== before.gslb.load) changes.push({ kind: 'load', load: after.gslb.load })
  return changes
}

export async function startDnsWorkers(options: DnsWorkersOptions): Promise<DnsWorkers> {
  const { logger } = options
  const workers: Worker[] = []
  /** The snapshot each worker was last brought to, by worker number. */
  const sent: Snapshot[] = []
  let closing = false
  let nextId = 0
  const pending = new Map<number, (reply: FromWorker | undefined) => void>()
  /** One request to each worker and its reply (undefined if a worker doesn't answer in time). */
  const askAll = (request: (id: number) => ToWorker): Promise<(FromWorker | undefined)[]> =>
    Promise.all(
      workers.map(
        (worker) =>
          new Promise<FromWorker | undefined>((resolve) => {
            const id = nextId++
            const timer = setTimeout(() => finish(undefined), REPLY_TIMEOUT_MS)
            const finish = (reply: FromWorker | undefined): void => {
              clearTimeout(timer)
              pending.delete(id)
              resolve(reply)
            }
            pending.set(id, finish)
            worker.postMessage(request(id))
          }),
      ),
    )
  // Each worker gets its share of the TCP caps, so the totals stay what the operator set.
  const share = (total: number): number => Math.max(1, Math.ceil(total / options.count))
  const tcp: TcpOptions = { ...options.tcp, maxConnections: share(options.tcp.maxConnections), maxPerClient: share(options.tcp.maxPerClient), maxBufferedBytes: Math.max(65_535, share(options.tcp.maxBufferedBytes)) }

  const relayLog = (line: string): void => {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>
    const label = logger.levels.labels[level as number] ?? 'info'
    ;(logger[label as 'info'] as (obj: object, msg?: string) => void).call(logger, fields, msg as string | undefined)
  }

  const spawn = (index: number): Promise<Worker> => {
    const init: WorkerInit = { index, listen: options.listen, tcp, logQueries: options.logQueries, logLevel: logger.level, shares: options.count }
    const worker = new Worker(THREAD_URL, { workerData: init })
    // The current state first; changes followed from now on queue up behind it in the worker's port.
    const current = options.current()
    worker.postMessage({ kind: 'inputs', state: workerState(current) } satisfies ToWorker)
    workers[index] = worker
    sent[index] = current
    return new Promise((resolve, reject) => {
      let ready = false
      worker.on('message', (message: FromWorker) => {
        switch (message.kind) {
          case 'ready':
            ready = true
            resolve(worker)
            return
          case 'failed':
            reject(new Error(message.message))
            void worker.terminate()
            return
          case 'log':
            relayLog(message.line)
            return
          case 'counts':
          case 'synced':
          case 'closed':
            pending.get(message.id)?.(message)
            return
        }
      })
      worker.on('error', (error) => logger.error({ err: error, worker: index }, 'dns worker failed'))
      worker.on('exit', (code) => {
        if (!ready) return reject(new Error(`dns worker ${index} exited with code ${code} before it was ready`))
        if (closing) return
        // The other workers keep answering on the shared port while this one is replaced.
        logger.error({ worker: index, code }, 'dns worker exited; starting a new one')
        spawn(index).catch(
          (error: unknown) => logger.error({ err: error, worker: index }, 'dns worker could not be replaced'),
        )
      })
    })
  }

  try {
    for (let index = 0; index < options.count; index++) await spawn(index)
  } catch (error) {
    closing = true
    await Promise.all(workers.map((w) => w.terminate()))
    throw error
  }

  return {
    threads: () => [...workers],
    follow(snapshot) {
      workers.forEach((worker, index) => {
        for (const change of workerChanges(sent[index] as Snapshot, snapshot)) worker.postMessage(change)
        sent[index] = snapshot
      })
    },
    async takeCounts() {
      return (await askAll((id) => ({ kind: 'take-counts', id }))).map((reply) => (reply?.kind === 'counts' ? reply.totals : undefined))
    },
    async synced() {
      await askAll((id) => ({ kind: 'sync', id }))
    },
    async close() {
      closing = true
      // Terminating a thread stops it wherever it is, even between a read and its reply: the
      // threads close their own sockets first (a second or so at most), then end.
      await askAll((id) => ({ kind: 'close', id }))
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}
