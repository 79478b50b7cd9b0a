// Every key under one etcd prefix, kept current: one linearizable read of the whole prefix, then a
// watch from the revision after it (the etcd3 client reconnects it and resumes where it left off).
// When the watch is cancelled (its revision compacted away while we were cut off) or the first
// read fails, it starts over with a read after a back-off. The caller is told each change in
// revision order, and whether the watch is connected.

import type { Etcd3, IKeyValue, Watcher } from 'etcd3'
import { etcdProblem } from './etcd-client.ts'

export type Entry = { readonly value: string; readonly modRevision: number; readonly createRevision: number }

/** One change: a put (entry) or a delete (undefined), at `revision`. */
export type Change = { readonly key: string; readonly entry: Entry | undefined; readonly revision: number }

export type WatchedPrefixHandlers = {
  /** The whole prefix as read at `revision` (at the start, and after any start-over). */
  readonly onReset: (entries: ReadonlyMap<string, Entry>, revision: number) => void
  /** Changes after it, in revision order; one call per watch response. */
  readonly onChanges: (changes: readonly Change[]) => void
  readonly onConnection: (connected: boolean, problem: string | undefined) => void
}

export type WatchedPrefix = {
  /** Resolves after the first read succeeded (or never, until etcd answers). */
  readonly ready: Promise<void>
  close(): void
}

const BACKOFF_MS = [100, 250, 500, 1000, 2000]

function toEntry(kv: IKeyValue): Entry {
  return { value: kv.value.toString(), modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision) }
}

/** Keys are given without `prefix` (which ends in '/'). */
export function watchPrefix(client: Etcd3, prefix: string, handlers: WatchedPrefixHandlers): WatchedPrefix {
  let closed = false
  let watcher: Watcher | undefined
  let failures = 0
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  const relative = (key: Buffer): string => key.toString().slice(prefix.length)

  const startOver = (problem: string): void => {
    handlers.onConnection(false, problem)
    void watcher?.cancel().catch(() => undefined)
    watcher = undefined
    const wait = BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]
    if (!closed) setTimeout(() => void run(), wait).unref()
  }

  const run = async (): Promise<void> => {
    if (closed) return
    try {
      const read = await client.getAll().prefix(prefix).exec()
      const revision = Number(read.header.revision)
      const entries = new Map(read.kvs.map((kv) => [relative(kv.key), toEntry(kv)]))
      const next = await client.watch().prefix(prefix).startRevision(String(revision + 1)).create()
      if (closed) return void next.cancel().catch(() => undefined)
      watcher = next
      failures = 0
      handlers.onReset(entries, revision)
      handlers.onConnection(true, undefined)
      markReady()
      next.on('data', (response) => {
        const changes = response.events.map((event): Change => ({
          key: relative(event.kv.key),
          entry: event.type === 'Put' ? toEntry(event.kv) : undefined,
          revision: Number(event.kv.mod_revision),
        }))
        if (changes.length > 0) handlers.onChanges(changes)
      })
      next.on('disconnected', (error) => handlers.onConnection(false, etcdProblem(error)))
      next.on('connected', () => handlers.onConnection(true, undefined))
      next.on('error', (error) => startOver(etcdProblem(error)))
    } catch (error) {
      startOver(etcdProblem(error))
    }
  }
  void run()
  return {
    ready,
    close() {
      closed = true
      void watcher?.cancel().catch(() => undefined)
    },
  }
}
