// Append-only JSON lines, one per operator change: time, who, what, old → new, why. fsync'd.

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
}

export function appendAudit(path: string, entry: AuditEntry): void {
  writeSynced(path, 'a', JSON.stringify(entry) + '\n')
}
