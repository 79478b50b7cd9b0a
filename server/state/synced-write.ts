// Writes that are on disk before they return: the one place state/ opens, writes and fsyncs.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/** Opens `path` with `flags` ('w' to replace, 'a' to append), writes `text`, fsyncs and closes. */
export function writeSynced(path: string, flags: 'w' | 'a', text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, flags)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
