// Append-only JSON lines, one per operator change: time, who, what, old → new, why. fsync'd.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export type AuditEntry = {
  readonly at: string
  readonly actor: string
  readonly target: string
  readonly from: unknown
  readonly to: unknown
  readonly reason: string
}

export function appendAudit(path: string, entry: AuditEntry): void {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'a')
  try {
    writeSync(fd, JSON.stringify(entry) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
