// Operator state of a fleet, in etcd: one key per override (`admin/sites/<site>`,
// `admin/servers/<address>`) and one per change (`audit/<write id>`). A change is one transaction:
// it commits only if the override is still at the revision it was decided on (else it is decided
// again on the newer record) and its audit key does not exist yet (so a retried request that had
// committed after all is recognised, never applied twice). The state file is the cache of what
// etcd held last (`fleet.revision`), so a start without etcd serves that; the audit log mirrors
// etcd's audit keys in revision order.

import type { Etcd3 } from 'etcd3'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { parseJson } from '../common/json.ts'
import type { Change, Entry } from '../fleet/watched-prefix.ts'
import { adminTarget, type AdminFile, type AdminRecord, type AdminStore, type RemoteAdminChange } from './admin-state.ts'
import { recordProblem, writeStateFile, type OpenStateFile } from './admin-state-file.ts'
import { appendAudit, readAudit, type AuditEntry } from './audit-log.ts'

/** The override record as etcd holds it: who wrote it where, and which write it was. */
type StoredRecord = AdminRecord & { readonly instance: string; readonly write: string }
/** An override as held here: the record and the revision etcd last changed it at (0: from the cache, not yet read from etcd). */
type Held = { readonly record: AdminRecord; readonly modRevision: number }

export type EtcdAdminStore = AdminStore & {
  /** `admin/…` and `audit/…` as read at `revision` (keys relative to the fleet prefix). */
  reset(entries: ReadonlyMap<string, Entry>, revision: number): void
  /** `admin/…` and `audit/…` changes after it, in revision order. */
  apply(changes: readonly Change[]): void
}

export type EtcdAdminStoreOptions = {
  readonly client: Etcd3
  /** The fleet prefix, ending in '/'. */
  readonly prefix: string
  readonly instance: string
  readonly opened: OpenStateFile
  readonly now: () => Date
  readonly logger: Logger
  /** Why a request failed, asked of etcd's members (fleet/etcd-client.ts etcdDiagnosis). */
  readonly explain: (error: unknown) => Promise<string>
}

/**
 * How often a change is decided again when other instances keep writing the same override first;
 * each retry waits a random few milliseconds, so two instances writing one override back to back
 * stop racing in step.
 */
const MAX_ATTEMPTS = 32
const RETRY_JITTER_MS = 20

export function etcdAdminStore(options: EtcdAdminStoreOptions): EtcdAdminStore {
  const { client, prefix, instance, opened, logger } = options
  const held = new Map<string, Held>()
  const initial = opened.load.file
  for (const section of ['servers', 'sites'] as const) {
    for (const [key, record] of Object.entries(initial[section])) held.set(`${section}/${key}`, { record, modRevision: 0 })
  }
  let file: AdminFile = initial
  /** Every audit key created up to this revision is in the audit log: the cache's mark. */
  let mirroredThrough = opened.load.ok ? (opened.load.fleet?.revision ?? 0) : 0
  const ownWrites = new Set<string>()
  // A state file that was never a fleet's cache holds an operator's overrides from before this
  // instance joined: they go into etcd where the fleet has none for the same target, never lost.
  let toImport = opened.load.ok && opened.load.fleet === undefined && held.size > 0
  const listeners: ((changes: readonly RemoteAdminChange[]) => void)[] = []

  const rebuild = (): void => {
    const servers: Record<string, AdminRecord> = {}
    const sites: Record<string, AdminRecord> = {}
    for (const [key, h] of held) {
      const [section, name] = splitKey(key)
      ;(section === 'sites' ? sites : servers)[name] = h.record
    }
    file = { servers, sites }
  }
  const saveCache = (): void => {
    try {
      writeStateFile(opened.path, file, { revision: mirroredThrough, at: options.now().toISOString() })
    } catch (error) {
      logger.error({ file: opened.path, error: (error as Error).message }, 'cannot write the state file (the cache of etcd); etcd still has every change')
    }
  }
  const mirror = (entry: Entry): void => {
    const parsed = parseJson(entry.value)
    if (!parsed) return void logger.error({ revision: entry.modRevision }, 'an audit key in etcd is not JSON; not mirrored')
    try {
      appendAudit(opened.auditLog, { ...(parsed as AuditEntry), revision: entry.createRevision })
    } catch (error) {
      logger.error({ file: opened.auditLog, error: (error as Error).message }, 'cannot mirror the fleet audit trail to the audit log; etcd still has it')
    }
  }
  /** An override key's new value, if it is newer than what we hold and valid; the change to tell, when remote. */
  const take = (key: string, entry: Entry | undefined, at: number): RemoteAdminChange | 'changed' | undefined => {
    const old = held.get(key)
    if (old && old.modRevision >= at && old.modRevision !== 0) return undefined
    if (!entry) {
      if (!old) return undefined
      held.delete(key)
      // Cleared at another instance (this one's own clears are gone from `held` already).
      const [section, name] = splitKey(key)
      return section === 'servers' || section === 'sites' ? { target: adminTarget(section, name), record: undefined, instance: '' } : 'changed'
    }
    const stored = parseJson(entry.value) as StoredRecord | undefined
    const problem = recordProblem(stored)
    const [section, name] = splitKey(key)
    if (problem !== undefined || !stored || (section !== 'servers' && section !== 'sites')) {
      logger.error({ key: prefix + 'admin/' + key, problem: problem ?? 'not JSON' }, 'an override in etcd is not one the admin API writes; ignored')
      return undefined
    }
    const record: AdminRecord = { state: stored.state, weight: stored.weight, reason: stored.reason, actor: stored.actor, at: stored.at, ...(stored.until ? { until: stored.until } : {}) }
    held.set(key, { record, modRevision: entry.modRevision })
    if (ownWrites.delete(String(stored.write))) return 'changed'
    return { target: adminTarget(section, name), record, instance: String(stored.instance ?? '') }
  }
  const tell = (changes: readonly RemoteAdminChange[]): void => {
    for (const listener of listeners) listener(changes)
  }
  /** Puts each of this state file's overrides that etcd lacks, with its audit entry; the watch brings them back as etcd's. */
  const importLocal = async (names: readonly string[]): Promise<void> => {
    for (const name of names) {
      const { record } = held.get(name)!
      const [section, key] = splitKey(name)
      const target = adminTarget(section as 'servers' | 'sites', key)
      const write = newWriteId(instance)
      const entry: AuditEntry = { at: options.now().toISOString(), actor: record.actor, target: `${target.kind} ${key}`, from: null, to: { state: record.state, weight: record.weight }, reason: `imported from ${instance}'s state file (set ${record.at}): ${record.reason}`, instance }
      ownWrites.add(write)
      try {
        const result = await client.if(`${prefix}admin/${name}`, 'Create', '==', 0)
          .then(client.put(`${prefix}admin/${name}`).value(JSON.stringify({ ...record, instance, write })), client.put(`${prefix}audit/${write}`).value(JSON.stringify(entry)))
          .commit()
        if (!result.succeeded) ownWrites.delete(write)
        logger.info({ target, state: record.state, weight: record.weight, imported: result.succeeded }, result.succeeded ? 'override from the state file imported into the fleet' : 'the fleet already has an override for this target; the fleet\'s stays')
      } catch (error) {
        ownWrites.delete(write)
        logger.error({ target, problem: (error as Error).message }, 'could not import an override from the state file into the fleet; it stays here only until the next reconnect')
      }
    }
  }

  return {
    current: () => file,

    async commit(decide) {
      const write = newWriteId(instance)
      const auditKey = `${prefix}audit/${write}`
      for (let attempt = 1; ; attempt++) {
        const decided = decide(file)
        if (!decided.ok) return decided
        const section = decided.target.kind === 'site' ? 'sites' : 'servers'
        const name = decided.target.kind === 'site' ? decided.target.site : decided.target.address
        const key = `${section}/${name}`
        const etcdKey = `${prefix}admin/${key}`
        const known = held.get(key)?.modRevision ?? 0
        // A cleared override is deleted; its audit key still marks the write as committed.
        const change = decided.record ? client.put(etcdKey).value(JSON.stringify({ ...decided.record, instance, write } satisfies StoredRecord)) : client.delete().key(etcdKey)
        if (decided.record) ownWrites.add(write)
        let result
        try {
          result = await client
            .if(etcdKey, 'Mod', '==', known)
            .and(auditKey, 'Create', '==', 0)
            .then(change, client.put(auditKey).value(JSON.stringify({ ...decided.entry, instance })))
            .else(client.get(etcdKey), client.get(auditKey))
            .commit()
        } catch (error) {
          ownWrites.delete(write)
          return { ok: false, status: 503, message: `${await options.explain(error)}; the change may or may not have been committed: read it back before retrying` }
        }
        const [current, audit] = result.succeeded ? [undefined, undefined] : result.responses.map((r) => r.response_range?.kvs[0])
        // A retried request whose first attempt committed: our audit key is there.
        const committedAt = result.succeeded ? Number(result.header.revision) : audit ? Number(audit.mod_revision) : undefined
        if (committedAt !== undefined) {
          if (!decided.record) held.delete(key)
          else if (!held.has(key) || held.get(key)!.modRevision < committedAt) held.set(key, { record: decided.record, modRevision: committedAt })
          ownWrites.delete(write)
          rebuild()
          saveCache()
          return { ...decided, next: file }
        }
        // Another instance wrote this override first: decide again on its record.
        ownWrites.delete(write)
        const told = take(key, current ? { value: current.value.toString(), modRevision: Number(current.mod_revision), createRevision: Number(current.create_revision) } : undefined, Number(current?.mod_revision ?? result.header.revision))
        rebuild()
        if (told) tell(told === 'changed' ? [] : [told])
        if (attempt >= MAX_ATTEMPTS) return { ok: false, status: 503, message: `etcd: ${etcdKey} kept changing under ${MAX_ATTEMPTS} attempts; try again` }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * RETRY_JITTER_MS))
      }
    },

    onRemoteChange: (listener) => void listeners.push(listener),

    async audit(limit) {
      try {
        const read = await client.getAll().prefix(`${prefix}audit/`).sort('Create', 'Descend').limit(limit).exec()
        return read.kvs.reverse().flatMap((kv) => {
          const parsed = parseJson(kv.value.toString())
          return parsed ? [{ ...(parsed as AuditEntry), revision: Number(kv.create_revision) }] : []
        })
      } catch {
        // etcd is away: this instance's mirror of it.
        return readAudit(opened.auditLog, limit)
      }
    },

    close: () => opened.lock.release(),

    reset(entries, at) {
      const remote: RemoteAdminChange[] = []
      let changed = false
      const seen = new Set<string>()
      for (const [key, entry] of entries) {
        if (!key.startsWith('admin/')) continue
        const name = key.slice('admin/'.length)
        seen.add(name)
        const told = take(name, entry, entry.modRevision)
        if (told) changed = true
        if (told && told !== 'changed') remote.push(told)
      }
      const importing: string[] = []
      for (const [name, h] of [...held]) {
        if (seen.has(name)) continue
        if (toImport && h.modRevision === 0) importing.push(name)
        else {
          held.delete(name)
          changed = true
        }
      }
      if (toImport) {
        toImport = false
        void importLocal(importing)
      }
      const audits = [...entries].filter(([key, e]) => key.startsWith('audit/') && e.createRevision > mirroredThrough).map(([, e]) => e).sort((a, b) => a.createRevision - b.createRevision)
      for (const entry of audits) mirror(entry)
      mirroredThrough = Math.max(mirroredThrough, at)
      rebuild()
      saveCache()
      if (changed) tell(remote)
    },

    apply(changes) {
      const remote: RemoteAdminChange[] = []
      let changed = false
      const from = mirroredThrough
      for (const change of changes) {
        if (change.key.startsWith('audit/')) {
          if (change.entry && change.entry.createRevision > from) mirror(change.entry)
        } else if (change.key.startsWith('admin/')) {
          const told = take(change.key.slice('admin/'.length), change.entry, change.revision)
          if (told) changed = true
          if (told && told !== 'changed') remote.push(told)
        }
        mirroredThrough = Math.max(mirroredThrough, change.revision)
      }
      rebuild()
      saveCache()
      if (changed) tell(remote)
    },
  }
}

/** Names one operator change fleet-wide: its audit key, and the mark its override carries. */
function newWriteId(instance: string): string {
  return `${Date.now().toString(36)}-${instance}-${randomBytes(4).toString('hex')}`
}

function splitKey(key: string): [section: string, name: string] {
  const slash = key.indexOf('/')
  return [key.slice(0, slash), key.slice(slash + 1)]
}
