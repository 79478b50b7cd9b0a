// Append-only JSON lines, one per operator change: time, who, what, old → new, why. fsync'd.

import { existsSync, readFileSync } from 'node:fs'
import { parseJson } from '../common/json.ts'
import { writeSynced } from './synced-write.ts'

export type AuditEntry = {
  readonly at: string
  readonly actor: string
  readonly target: string
  readonly from: unknown
  readonly to: unknown
  readonly reason: string
  /** Set on a second line for the same change when it could not be completed after all. */
  readonly aborted?: string
  /** In a fleet: the instance that took the change, and the etcd revision that committed it. */
  readonly instance?: string
  readonly revision?: number
}

export function appendAudit(path: string, entry: AuditEntry): void {
  writeSynced(path, 'a', JSON.stringify(entry) + '\n')
}

/** The last `limit` entries of the log at `path`, oldest first (a line that is not JSON is skipped). */
export function readAudit(path: string, limit: number): AuditEntry[] {
  if (!existsSync(path)) return []
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean)
  return lines.slice(-limit).flatMap((line) => {
    const entry = parseJson(line)
    return entry === undefined ? [] : [entry as AuditEntry]
  })
}
