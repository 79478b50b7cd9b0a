// Operators' overrides on disk. Every change is written before it is acknowledged: write a temp
// file, fsync it, rename it over the old one, fsync the folder (so a crash leaves either the old
// or the new file, never a torn one). A file that can't be read is set aside, never dropped.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'
import type { AdminFile, AdminRecord, AdminStore } from './admin-state.ts'
import { appendAudit } from './audit-log.ts'
import { writeSynced } from './synced-write.ts'

export const EMPTY_ADMIN_FILE: AdminFile = Object.freeze({ servers: {}, sites: {} })

export type AdminFileLoad =
  | { readonly ok: true; readonly file: AdminFile }
  | { readonly ok: false; readonly file: AdminFile; readonly problem: string; readonly setAside: string }

const STATES = new Set(['enabled', 'disabled', 'drain', 'up'])

export function loadAdminFile(path: string): AdminFileLoad {
  if (!existsSync(path)) return { ok: true, file: EMPTY_ADMIN_FILE }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown
    if (!isAdminFile(parsed)) throw new Error('not a Signpost admin state file')
    return { ok: true, file: parsed }
  } catch (error) {
    const setAside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
    renameSync(path, setAside)
    return { ok: false, file: EMPTY_ADMIN_FILE, problem: (error as Error).message, setAside }
  }
}

export function persistAdminFile(path: string, file: AdminFile): void {
  const temp = `${path}.tmp`
  writeSynced(temp, 'w', JSON.stringify(file, null, 2) + '\n')
  renameSync(temp, path)
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/** The AdminStore of one machine: the state file, replaced whole on each change, and the audit log beside it. */
export function localAdminStore(stateFile: string, auditLog: string, initial: AdminFile): AdminStore {
  return {
    initial,
    async commit(next, entry) {
      persistAdminFile(stateFile, next)
      appendAudit(auditLog, entry)
    },
  }
}

function isAdminFile(value: unknown): value is AdminFile {
  const records = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && Object.values(v).every((r) => typeof r === 'object' && r !== null && STATES.has((r as AdminRecord).state))
  return typeof value === 'object' && value !== null && records((value as AdminFile).servers) && records((value as AdminFile).sites)
}
