// Operators' overrides on disk. Every change is written before it is acknowledged: write a temp
// file, fsync it, append the audit line, rename it over the old one, fsync the folder (so a crash
// leaves either the old or the new file, never a torn one). A file that can't be read, or holds what the admin API would
// refuse (a state, weight or target it does not take), is set aside, never dropped or half-used.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseServerAddress } from '../common/address.ts'
import { StartupError } from '../common/startup-error.ts'
import { MAX_WEIGHT, type AdminFile, type AdminStore } from './admin-state.ts'
import { appendAudit, readAudit, type AuditEntry } from './audit-log.ts'
import { lockStateFile, type StateLock } from './state-lock.ts'
import { writeSynced } from './synced-write.ts'

export const EMPTY_ADMIN_FILE: AdminFile = Object.freeze({ servers: {}, sites: {} })

/** In a fleet the state file is etcd's cache: how far it has followed etcd, and when it last heard from it. */
export type FleetCacheMark = { readonly revision: number; readonly at: string }

export type AdminFileLoad =
  | { readonly ok: true; readonly file: AdminFile; readonly fleet?: FleetCacheMark }
  | { readonly ok: false; readonly file: AdminFile; readonly problem: string; readonly setAside: string }

/** The state file, opened: locked, both files checked writable, its content loaded. */
export type OpenStateFile = {
  readonly path: string
  readonly auditLog: string
  readonly load: AdminFileLoad
  readonly lock: StateLock
}

/** Locks the state file (one instance per file), checks that it and the audit log can be written, and loads it (a bad file set aside); a problem there is a StartupError. */
export function openStateFile(stateFile: string, auditLog: string): OpenStateFile {
  const lock = lockStateFile(stateFile)
  try {
    checkWritable(`${stateFile}.tmp`, 'w', 'admin state file', stateFile)
    checkWritable(auditLog, 'a', 'audit log', auditLog)
    return { path: stateFile, auditLog, load: loadAdminFile(stateFile), lock }
  } catch (error) {
    lock.release()
    throw error
  }
}

const STATES = new Set(['enabled', 'disabled', 'drain', 'up'])

function loadAdminFile(path: string): AdminFileLoad {
  if (!existsSync(path)) return { ok: true, file: EMPTY_ADMIN_FILE }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown
    const problem = adminFileProblem(parsed)
    if (problem !== undefined) throw new Error(`not a Signpost admin state file: ${problem}`)
    const { servers, sites, fleet } = parsed as AdminFile & { fleet?: FleetCacheMark }
    return { ok: true, file: { servers, sites }, ...(isFleetMark(fleet) ? { fleet } : {}) }
  } catch (error) {
    const setAside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
    renameSync(path, setAside)
    return { ok: false, file: EMPTY_ADMIN_FILE, problem: (error as Error).message, setAside }
  }
}

/** The AdminStore of one machine: the opened state file, replaced whole on each change, and the audit log beside it. */
export function localAdminStore(opened: OpenStateFile): AdminStore {
  let file = opened.load.file
  return {
    current: () => file,
    async commit(decide) {
      const decided = decide(file)
      if (!decided.ok) return decided
      commitToFile(opened.path, opened.auditLog, decided.next, decided.entry)
      file = decided.next
      return decided
    },
    onRemoteChange: () => undefined,
    audit: async (limit) => readAudit(opened.auditLog, limit),
    close: () => opened.lock.release(),
  }
}

/** Replaces the state file whole (temp file, fsync, rename, fsync the folder), with no audit line: a fleet's cache of etcd. */
export function writeStateFile(stateFile: string, file: AdminFile, fleet: FleetCacheMark): void {
  const temp = `${stateFile}.tmp`
  writeSynced(temp, 'w', JSON.stringify({ ...file, fleet }, null, 2) + '\n')
  renameSync(temp, stateFile)
  syncFolder(stateFile)
}

/**
 * A change happens whole or not at all: the new file is written and fsync'd beside the old one,
 * the audit line appended, and only then does the rename make it the state file. An audit failure
 * leaves the old file in place; a failed rename after the audit line is written adds an `aborted`
 * line, so the log never claims a change the file lacks.
 */
function commitToFile(stateFile: string, auditLog: string, next: AdminFile, entry: AuditEntry): void {
  const temp = `${stateFile}.tmp`
  writeSynced(temp, 'w', JSON.stringify(next, null, 2) + '\n')
  try {
    appendAudit(auditLog, entry)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
  try {
    renameSync(temp, stateFile)
    syncFolder(stateFile)
  } catch (error) {
    appendAudit(auditLog, { ...entry, aborted: `the state file could not be replaced: ${(error as Error).message}` })
    throw error
  }
}

function syncFolder(path: string): void {
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/** Opens `path` as a change would (creating its folder), or throws one clear StartupError. */
function checkWritable(path: string, flags: 'w' | 'a', what: string, named: string): void {
  try {
    writeSynced(path, flags, '')
    if (flags === 'w') rmSync(path)
  } catch (error) {
    throw new StartupError(`cannot write the ${what} ${named}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/** What in `value` the admin API would not have written, or undefined when it is a valid state file. */
function adminFileProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object'
  for (const section of ['servers', 'sites'] as const) {
    const records = value[section]
    if (!isObject(records)) return `'${section}' is not an object`
    for (const [key, record] of Object.entries(records)) {
      const where = `${section}.${key}`
      if (section === 'servers') {
        const address = parseServerAddress(key)
        if (!address.ok) return `${where}: ${address.message}`
        if (address.address !== key) return `${where}: not written as ${address.address}`
      } else if (key === '') {
        return 'sites: an empty site name'
      }
      const problem = recordProblem(record)
      if (problem !== undefined) return `${where}: ${problem}`
    }
  }
  return undefined
}

/** What in `record` the admin API would not have written (also for records read from etcd). */
export function recordProblem(record: unknown): string | undefined {
  if (!isObject(record)) return 'not an object'
  if (typeof record['state'] !== 'string' || !STATES.has(record['state'])) return `state ${JSON.stringify(record['state'])} is not one of ${[...STATES].join(', ')}`
  const weight = record['weight']
  if (weight !== undefined && !(Number.isInteger(weight) && (weight as number) >= 0 && (weight as number) <= MAX_WEIGHT)) return `weight ${JSON.stringify(weight)} is not a whole number from 0 to ${MAX_WEIGHT}`
  for (const field of ['reason', 'actor', 'at']) if (typeof record[field] !== 'string') return `${field} is not text`
  const until = record['until']
  if (until !== undefined && (typeof until !== 'string' || Number.isNaN(Date.parse(until)))) return `until ${JSON.stringify(until)} is not an RFC 3339 time`
  return undefined
}

function isFleetMark(value: unknown): value is FleetCacheMark {
  return isObject(value) && Number.isInteger(value['revision']) && typeof value['at'] === 'string'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
