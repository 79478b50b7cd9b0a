// The etcd connection of a fleet instance: the client (the `etcd3` package: gRPC, leases and
// watches) made from the config's `cluster` section, and etcd's failures said in one line.

import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, resolve } from 'node:path'
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, retry } from 'cockatiel'
import { Etcd3, type IOptions } from 'etcd3'
import { DEFAULT_ETCD_PASSWORD_ENV, DEFAULT_ETCD_TIMEOUT_MS, DEFAULT_LEASE_TTL_S } from '../config/defaults.ts'
import { instanceName, type ClusterConfig } from '../config/schema.ts'

const INSTANCE_NAME = new RegExp(instanceName.pattern)

export type EtcdSettings = {
  readonly instance: string
  readonly endpoints: readonly string[]
  /** Every key of the fleet lives under it (no trailing slash). */
  readonly prefix: string
  readonly timeoutMs: number
  readonly leaseTtlS: number
  readonly options: IOptions
}

export type EtcdSettingsResult = { readonly ok: true; readonly settings: EtcdSettings } | { readonly ok: false; readonly message: string }

/** The `cluster` section made usable: TLS files read (relative to the config), the password taken from the environment. */
export function etcdSettings(cluster: ClusterConfig, configFile: string | undefined, instance: string | undefined, env: NodeJS.ProcessEnv = process.env): EtcdSettingsResult {
  const { etcd } = cluster
  const timeoutMs = etcd.timeout_ms ?? DEFAULT_ETCD_TIMEOUT_MS
  const options: IOptions = {
    hosts: [...etcd.endpoints],
    dialTimeout: timeoutMs,
    // A deadline per attempt: a dead member costs one timeout, then the client tries the next one. Streams (watch, keepalive) have none.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    // The client's defaults suit long-lived services that can wait: a member's circuit stays open
    // 5 s after 3 failures, and a watch backs off up to 30 s. A name server wants etcd back within
    // a second of it answering again.
    faultHandling: {
      host: () => circuitBreaker(handleAll, { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(3) }),
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next(),
    },
  }
  const read = (file: string): Buffer => readFileSync(resolve(configFile ? dirname(configFile) : '.', file))
  if (etcd.tls) {
    try {
      options.credentials = { rootCertificate: read(etcd.tls.ca), ...(etcd.tls.cert && etcd.tls.key ? { certChain: read(etcd.tls.cert), privateKey: read(etcd.tls.key) } : {}) }
    } catch (error) {
      return { ok: false, message: `cluster.etcd.tls: ${(error as Error).message}` }
    }
  }
  if (etcd.username) {
    const variable = etcd.password_env ?? DEFAULT_ETCD_PASSWORD_ENV
    const password = env[variable]
    if (!password) return { ok: false, message: `cluster.etcd.username is set but ${variable} holds no password` }
    options.auth = { username: etcd.username, password }
  }
  const name = instance ?? cluster.instance ?? hostname()
  // The config's own rule, for --instance and the host name too.
  if (!INSTANCE_NAME.test(name)) return { ok: false, message: `instance name '${name}' must be letters, digits, '.', '_' or '-' (at most 63)` }
  return { ok: true, settings: { instance: name, endpoints: etcd.endpoints, prefix: etcd.prefix, timeoutMs, leaseTtlS: etcd.lease_ttl_s ?? DEFAULT_LEASE_TTL_S, options } }
}

export function connectEtcd(settings: EtcdSettings): Etcd3 {
  return new Etcd3(settings.options)
}

export type EtcdDiagnosis = {
  /** Why etcd failed a request, asked of each member: "etcd: no leader (1 of 3 members answer)", … */
  explain(error: unknown): Promise<string>
  close(): void
}

const DIAGNOSIS_CACHE_MS = 1000

/**
 * A failed request says little ("deadline exceeded" from a member that lost quorum looks like an
 * unreachable one). This asks every member for its status, one client per endpoint, so the 503 says
 * which it is. Answers are cached for a second: a storm of refused writes asks once.
 */
export function etcdDiagnosis(settings: EtcdSettings): EtcdDiagnosis {
  const members = settings.endpoints.map((endpoint) => new Etcd3({ ...settings.options, hosts: [endpoint], faultHandling: { global: noRetry() } }))
  let cached: { at: number; text: Promise<string> } | undefined
  const ask = async (): Promise<string> => {
    const statuses = await Promise.all(members.map((m) => m.maintenance.status({ deadline: Date.now() + settings.timeoutMs }).then((status) => ({ status, error: undefined }), (error: unknown) => ({ status: undefined, error }))))
    // A member that refuses our credentials has answered: that is the problem to tell.
    const refusal = statuses.map((s) => etcdProblem(s.error)).find((problem) => problem.startsWith('etcd: refused'))
    if (refusal) return refusal
    const answering = statuses.flatMap((s) => (s.status ? [s.status] : []))
    const count = `${answering.length} of ${members.length} members answer`
    if (answering.length === 0) return `etcd: unreachable (${count})`
    if (!answering.some((s) => s.leader !== '0')) return `etcd: no leader (${count}; a quorum is ${Math.floor(members.length / 2) + 1})`
    return ''
  }
  return {
    async explain(error) {
      if (!cached || Date.now() - cached.at > DIAGNOSIS_CACHE_MS) cached = { at: Date.now(), text: ask() }
      return (await cached.text) || etcdProblem(error)
    },
    close: () => members.forEach((m) => m.close()),
  }
}

function noRetry() {
  return retry(handleAll, { maxAttempts: 0 })
}

/** An etcd failure as operators read it: "etcd: no leader", "etcd: unreachable (…)", … */
export function etcdProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/no leader|leader changed/i.test(message)) return 'etcd: no leader'
  if (/request timed out|deadline exceeded|DEADLINE_EXCEEDED/i.test(message)) return 'etcd: no answer in time (no leader or no quorum)'
  if (/ECONNREFUSED|UNAVAILABLE|No connection established|ENOTFOUND|EHOSTUNREACH|circuit breaker is open/i.test(message)) return 'etcd: unreachable'
  if (/permission denied|authentication failed|invalid auth/i.test(message)) return `etcd: refused (${message})`
  return `etcd: ${message}`
}
