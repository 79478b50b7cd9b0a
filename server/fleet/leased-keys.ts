// Keys that live only as long as this instance does: each is put under one lease, kept alive by
// the etcd3 client; when the instance dies or is cut off longer than the TTL, etcd deletes them.
// A lost lease (etcd expired it while we were cut off) is granted again and every key put again.
// Writes are queued and sent in the background; only what changed since the last write is sent.

import type { Etcd3, Lease } from 'etcd3'
import { etcdProblem } from './etcd-client.ts'

export type LeasedKeys = {
  /** Puts (again, when changed) `key` under the lease. */
  set(key: string, value: string): void
  delete(key: string): void
  /** The lease was kept alive within its TTL: this instance's keys are in etcd. */
  alive(): boolean
  /** Why not, when not. */
  problem(): string | undefined
  /** Resolves once every queued write was sent (or failed and was queued again). */
  settled(): Promise<void>
  /** Revokes the lease: every key goes at once (a clean shutdown leaves no stale verdicts). */
  close(): Promise<void>
  /** Writes sent so far, for the traffic figures. */
  writes(): number
}

const RETRY_MS = 500
const CONCURRENCY = 32

export function holdLeasedKeys(client: Etcd3, ttlS: number): LeasedKeys {
  let closed = false
  let lease: Lease | undefined
  let granted = false
  let lastKeepalive = 0
  let problem: string | undefined = 'etcd: no lease yet'
  let writes = 0
  const wanted = new Map<string, string>()
  /** In etcd as far as we know: what was last put, per key. */
  const sent = new Map<string, string>()
  const dirty = new Set<string>()
  let flushing: Promise<void> = Promise.resolve()
  let retry: NodeJS.Timeout | undefined

  const grant = (): void => {
    if (closed) return
    const next = client.lease(ttlS, { autoKeepAlive: true })
    lease = next
    granted = false
    next.on('keepaliveSucceeded', () => {
      lastKeepalive = Date.now()
      problem = undefined
    })
    next.on('keepaliveFailed', () => (problem = 'etcd: lease keepalive failed'))
    next.on('lost', (error) => {
      if (lease !== next) return
      problem = etcdProblem(error)
      granted = false
      // etcd deleted our keys with the lease (or never had them): all of them go again under a new one.
      sent.clear()
      for (const key of wanted.keys()) dirty.add(key)
      if (!closed) setTimeout(grant, RETRY_MS).unref()
    })
    next.grant().then(() => {
      if (lease !== next) return
      granted = true
      lastKeepalive = Date.now()
      problem = undefined
      schedule()
    }, () => undefined)
  }

  const writeOne = async (key: string): Promise<void> => {
    const value = wanted.get(key)
    if (value === sent.get(key)) return
    writes++
    if (value === undefined) await client.delete().key(key).exec()
    else await lease!.put(key).value(value).exec()
    if (value === undefined) sent.delete(key)
    else sent.set(key, value)
  }

  const flush = async (): Promise<void> => {
    if (!granted || closed) return
    const keys = [...dirty]
    dirty.clear()
    let failed = false
    for (let i = 0; i < keys.length; i += CONCURRENCY) {
      await Promise.all(keys.slice(i, i + CONCURRENCY).map((key) => writeOne(key).catch((error: unknown) => {
        problem = etcdProblem(error)
        dirty.add(key)
        failed = true
      })))
    }
    if (failed && !retry && !closed) retry = setTimeout(() => ((retry = undefined), schedule()), RETRY_MS).unref()
  }
  const schedule = (): void => {
    flushing = flushing.then(flush)
  }

  grant()
  return {
    set(key, value) {
      if (wanted.get(key) === value) return
      wanted.set(key, value)
      dirty.add(key)
      schedule()
    },
    delete(key) {
      if (!wanted.has(key)) return
      wanted.delete(key)
      dirty.add(key)
      schedule()
    },
    alive: () => granted && Date.now() - lastKeepalive < ttlS * 1000,
    problem: () => problem,
    settled: () => flushing,
    async close() {
      closed = true
      if (retry) clearTimeout(retry)
      await flushing
      await lease?.revoke().catch(() => undefined)
    },
    writes: () => writes,
  }
}
