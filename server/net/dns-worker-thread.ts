// One DNS worker thread (NSD's model): it owns its own store, binds every listen address with
// reusePort beside its sibling threads, and answers queries. The main thread runs the checker and
// the admin API and sends each change; the thread applies it with the same pure snapshot functions.

import type dgram from 'node:dgram'
import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { openGeoDb, type GeoDb, type GeoSource } from '../geo/geo-db.ts'
import { planServers } from '../gslb/tables.ts'
import { buildSnapshot, withAdmin, withHealth, withLoad } from '../query/snapshot.ts'
import { createStore, type Store } from '../query/store.ts'
import { releaseMemory } from '../common/release-memory.ts'
import { createPacketHandler } from './handle-packet.ts'
import { createQueryCounter } from '../metrics/query-counts.ts'
import { listenTcp, type TcpListener } from './tcp.ts'
import { closeUdpBetweenReads, listenUdp } from './udp.ts'
import type { ToWorker, WorkerInit, WorkerState, FromWorker } from './dns-workers.ts'

const port = parentPort!
const init = workerData as WorkerInit
const send = (message: FromWorker): void => port.postMessage(message)

// Log lines go to the main thread, which writes them through its own logger.
const logger = pino({ level: init.logLevel, base: { worker: init.index } }, { write: (line: string) => send({ kind: 'log', line }) })

let geo: { source: GeoSource; db: GeoDb } | undefined
/** Opens the GeoIP database once per source (the bytes are shared with the main thread, not copied). */
function geoFor(source: GeoSource | undefined): GeoDb | undefined {
  if (!source) return undefined
  if (geo?.source.bytes !== source.bytes) geo = { source, db: openGeoDb(source) }
  return geo.db
}

function snapshotOf(state: WorkerState) {
  return buildSnapshot(state.generation, state.zones, state.gslb, state.health, state.admin, geoFor(state.geo), state.load, state.defence, state.dnssec)
}

const counter = createQueryCounter(planServers)
let store: Store | undefined

// The first message is always 'inputs': the state comes by message, not in workerData, so a later
// reload can free it (workerData stays referenced for the thread's life).
port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'inputs':
      if (store) store.publish(snapshotOf(message.state))
      else void listen((store = createStore(snapshotOf(message.state))))
      releaseMemory()
      return
    case 'health':
      store?.publish(withHealth(store.current, message.health))
      return
    case 'admin':
      store?.publish(withAdmin(store.current, message.admin))
      return
    case 'load':
      store?.publish(withLoad(store.current, message.load))
      return
    case 'take-counts':
      send({ kind: 'counts', id: message.id, totals: counter.take() })
      return
    case 'sync':
      send({ kind: 'synced', id: message.id })
      return
    case 'close':
      void Promise.all([...sockets.map(closeUdpBetweenReads), ...listeners.map((l) => l.close())]).then(() => send({ kind: 'closed', id: message.id }))
      return
  }
})

/** What this thread bound, so it can close them itself. */
const sockets: dgram.Socket[] = []
const listeners: TcpListener[] = []

async function listen(store: Store): Promise<void> {
  const handle = createPacketHandler(store, logger, init.logQueries, counter, init.shares)
  try {
    for (const address of init.listen) {
      listeners.push(await listenTcp(address.host, address.port, handle, init.tcp, logger, true))
      sockets.push(await listenUdp(address.host, address.port, address.family, handle, logger, true))
    }
    send({ kind: 'ready' })
  } catch (error) {
    send({ kind: 'failed', message: (error as Error).message })
  }
}
