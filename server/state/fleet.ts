// This instance in a fleet of name servers that share one truth through etcd (README: "Running a
// fleet"). Under the `cluster.etcd.prefix`:
//   admin/<sites|servers>/<name>   operator overrides          (etcd-admin-store.ts)
//   audit/<write id>               one key per operator change (etcd-admin-store.ts)
//   lb/<site>/<node>               the last keepalived event of each LB node
//   instances/<instance>           who is in the fleet: version, zone serials, config hash   (lease)
//   health/<instance>/<target>     each instance's own verdict for each target it probes     (lease)
// One watch of the whole prefix keeps every instance current. Keys under this instance's lease
// vanish when it dies or is cut off past the TTL, so a dead vantage point stops voting.
// The fleet is "connected" while the watch is up and the lease kept alive; otherwise the control
// plane falls back to this instance's own verdicts, and operator writes get 503.

import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { parseJson } from '../common/json.ts'
import { connectEtcd, etcdDiagnosis, type EtcdSettings } from '../fleet/etcd-client.ts'
import { holdLeasedKeys } from '../fleet/leased-keys.ts'
import { watchPrefix, type Change, type Entry } from '../fleet/watched-prefix.ts'
import type { KeepalivedState } from '../health/lb-pair.ts'
import type { HealthState, ProbeTarget } from '../health/types.ts'
import type { OpenStateFile } from './admin-state-file.ts'
import { etcdAdminStore, type EtcdAdminStore } from './etcd-admin-store.ts'

/** One vantage point's verdict on one target, as published. */
export type Verdict = {
  readonly state: HealthState
  readonly since: string | null
  readonly reason: string
  readonly target: { readonly kind: ProbeTarget['kind']; readonly address: string; readonly site: string; readonly node: string | undefined }
}

/** What an instance says about itself in `instances/`. */
export type Identity = {
  readonly version: string
  readonly started: string
  readonly zones: readonly { readonly name: string; readonly serial: number }[]
  /** sha256 of the config parts that decide answers (checks, sites, names, the fleet rule). */
  readonly config: string
}

export type Member = Identity & { readonly name: string; readonly seen: string }

export type LbRecord = { readonly state: KeepalivedState; readonly at: string; readonly instance: string }

export type FleetLink = { readonly connected: boolean; readonly problem: string | undefined; readonly since: string }

export type Fleet = {
  readonly instance: string
  readonly adminStore: EtcdAdminStore
  link(): FleetLink
  /** Other instances' verdicts: target key → instance → verdict (live instances only: the rest expired with their lease). */
  peerVerdicts(): ReadonlyMap<string, ReadonlyMap<string, Verdict>>
  /** This instance's verdicts, by target key: every one it probes (those missing are withdrawn). */
  publishVerdicts(verdicts: ReadonlyMap<string, Verdict>): void
  lbEvents(): ReadonlyMap<string, LbRecord>
  /** Shares a keepalived event; resolves with the problem when etcd did not take it. */
  shareLbEvent(site: string, node: string, state: KeepalivedState): Promise<string | undefined>
  members(): readonly Member[]
  setIdentity(identity: Identity): void
  /** Peers' verdicts, keepalived events, members or the link changed. */
  onChange(listener: () => void): void
  /** Resolves true once the first read of etcd is in, false after `limitMs` without it. */
  ready(limitMs: number): Promise<boolean>
  /** Writes sent by this instance so far (leased keys), for the traffic figures. */
  writes(): number
  close(): Promise<void>
}

const targetKeys = new WeakMap<ProbeTarget, string>()

/**
 * A target's key in `health/<instance>/`: short and the same at every instance with the same
 * config. Hashed once per target (targets live until a reload): the fleet's health is worked out
 * again on every change a peer makes.
 */
export function targetKey(target: ProbeTarget): string {
  let key = targetKeys.get(target)
  if (key === undefined) targetKeys.set(target, (key = createHash('sha256').update(target.id).digest('hex').slice(0, 20)))
  return key
}

const LINK_CHECK_MS = 250

export function joinFleet(settings: EtcdSettings, opened: OpenStateFile, logger: Logger, now: () => Date): Fleet {
  const { instance } = settings
  const prefix = `${settings.prefix}/`
  const client = connectEtcd(settings)
  const leased = holdLeasedKeys(client, settings.leaseTtlS)
  const diagnosis = etcdDiagnosis(settings)
  const adminStore = etcdAdminStore({ client, prefix, instance, opened, now, logger, explain: diagnosis.explain })
  const verdicts = new Map<string, Map<string, Verdict>>()
  const lb = new Map<string, LbRecord>()
  const members = new Map<string, Member>()
  const listeners: (() => void)[] = []
  const changed = (): void => listeners.forEach((listener) => listener())
  let watching = false
  let watchProblem: string | undefined = 'etcd: not read yet'
  let link: FleetLink = { connected: false, problem: watchProblem, since: now().toISOString() }
  let identity: Identity | undefined

  const invalid = (key: string): false => {
    logger.error({ key: prefix + key }, 'a fleet key in etcd holds what no Signpost instance writes; ignored')
    return false
  }
  /** One key of the prefix, put (entry) or deleted; true when a peer's view changed. */
  const take = (key: string, entry: Entry | undefined): boolean => {
    const [kind, ...rest] = key.split('/')
    const value = entry ? parseJson(entry.value) : undefined
    if (entry && value === undefined) return invalid(key)
    if (kind === 'health' && rest.length === 2) {
      const [who, target] = rest as [string, string]
      if (who === instance) return false
      if (value && !hasState(value, VERDICT_STATES)) return invalid(key)
      const byInstance = verdicts.get(target) ?? new Map<string, Verdict>()
      if (value) byInstance.set(who, value as Verdict)
      else byInstance.delete(who)
      if (byInstance.size > 0) verdicts.set(target, byInstance)
      else verdicts.delete(target)
      return true
    }
    if (kind === 'lb' && rest.length === 2) {
      if (value && !(hasState(value, LB_STATES) && typeof (value as { at?: unknown }).at === 'string')) return invalid(key)
      if (value) lb.set(rest.join('/'), value as LbRecord)
      else lb.delete(rest.join('/'))
      return true
    }
    if (kind === 'instances' && rest.length === 1) {
      const member = value as Member | undefined
      // Two processes under one name would overwrite each other's verdicts: say so, loudly.
      if (member && rest[0] === instance && identity && member.started !== identity.started) logger.error({ instance, other: member }, 'fleet: another process registered under this instance name; give each instance its own (--instance)')
      if (member) members.set(rest[0]!, member)
      else members.delete(rest[0]!)
      return true
    }
    return false
  }

  const watch = watchPrefix(client, prefix, {
    onReset(entries, revision) {
      verdicts.clear()
      lb.clear()
      members.clear()
      const admin = new Map<string, Entry>()
      for (const [key, entry] of entries) {
        if (key.startsWith('admin/') || key.startsWith('audit/')) admin.set(key, entry)
        else take(key, entry)
      }
      adminStore.reset(admin, revision)
      changed()
    },
    onChanges(changes) {
      const admin: Change[] = []
      let any = false
      for (const change of changes) {
        if (change.key.startsWith('admin/') || change.key.startsWith('audit/')) admin.push(change)
        else if (take(change.key, change.entry)) any = true
      }
      if (admin.length > 0) adminStore.apply(admin)
      if (any) changed()
    },
    onConnection(connected, problem) {
      watching = connected
      watchProblem = problem
      checkLink()
    },
  })

  let explaining = false
  const checkLink = (): void => {
    const connected = watching && leased.alive()
    if (connected !== link.connected) {
      const problem = connected ? undefined : (watching ? leased.problem() : watchProblem) ?? 'etcd: unreachable'
      link = { connected, problem, since: now().toISOString() }
      if (connected) logger.info({ instance }, 'fleet: connected to etcd; fleet verdicts and shared operator state')
      changed()
    }
    // While cut off, the members say why (and it can change: no leader, then nobody answers).
    if (connected || explaining) return
    explaining = true
    const lost = link
    void diagnosis.explain(lost.problem).then((explained) => {
      explaining = false
      if (link !== lost || explained === lost.problem) return
      link = { ...lost, problem: explained }
      logger.error({ instance, problem: explained }, 'fleet: etcd lost; serving the last known operator state, own health verdicts only, operator writes refused')
    })
  }
  const linkTimer = setInterval(checkLink, LINK_CHECK_MS)
  linkTimer.unref()

  const heartbeat = (): void => {
    if (identity) leased.set(`${prefix}instances/${instance}`, JSON.stringify({ ...identity, name: instance, seen: now().toISOString() }))
  }
  // "Last seen" means something: the registry entry is written again once per lease TTL.
  const heartbeatTimer = setInterval(heartbeat, settings.leaseTtlS * 1000)
  heartbeatTimer.unref()

  let published = new Set<string>()
  return {
    instance,
    adminStore,
    link: () => link,
    peerVerdicts: () => (link.connected ? verdicts : new Map()),
    publishVerdicts(own) {
      for (const [key, verdict] of own) leased.set(`${prefix}health/${instance}/${key}`, JSON.stringify(verdict))
      for (const key of published) if (!own.has(key)) leased.delete(`${prefix}health/${instance}/${key}`)
      published = new Set(own.keys())
    },
    lbEvents: () => lb,
    async shareLbEvent(site, node, state) {
      const record: LbRecord = { state, at: now().toISOString(), instance }
      try {
        await client.put(`${prefix}lb/${site}/${node}`).value(JSON.stringify(record)).exec()
        lb.set(`${site}/${node}`, record)
        return undefined
      } catch (error) {
        return diagnosis.explain(error)
      }
    },
    members: () => [...members.values()].sort((a, b) => a.name.localeCompare(b.name)),
    setIdentity(next) {
      identity = next
      heartbeat()
    },
    onChange: (listener) => void listeners.push(listener),
    async ready(limitMs) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), limitMs)))
      const result = await Promise.race([watch.ready.then(() => true), timeout])
      clearTimeout(timer)
      return result
    },
    writes: () => leased.writes(),
    async close() {
      clearInterval(linkTimer)
      clearInterval(heartbeatTimer)
      watch.close()
      await leased.close()
      client.close()
      diagnosis.close()
      adminStore.close()
    },
  }
}

const VERDICT_STATES: ReadonlySet<unknown> = new Set(['up', 'down', 'unknown'])
const LB_STATES: ReadonlySet<unknown> = new Set(['MASTER', 'BACKUP', 'FAULT', 'STOP'])

function hasState(value: unknown, states: ReadonlySet<unknown>): boolean {
  return typeof value === 'object' && value !== null && states.has((value as { state?: unknown }).state)
}
