// The open-files limit: a DNS server holds a descriptor per TCP client, admin client and probe, and
// the soft limit a shell or service manager hands over (often 1,024) is far below the hard one.
// Node has no setrlimit, so util-linux's prlimit raises this process's soft limit to the hard one.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export type FileLimit = { readonly soft: number; readonly hard: number }

/** Raises the soft open-files limit to the hard one where it is lower; the limits in force after. */
export function raiseFileLimit(): FileLimit | undefined {
  const before = fileLimit()
  if (before && before.soft < before.hard) spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${before.hard}:${before.hard}`], { stdio: 'ignore' })
  return fileLimit()
}

/** Soft and hard open-files limits of this process (Infinity: unlimited), from /proc/self/limits. */
export function fileLimit(): FileLimit | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  if (!match) return undefined
  const value = (text: string): number => (text === 'unlimited' ? Infinity : Number(text))
  return { soft: value(match[1] as string), hard: value(match[2] as string) }
}
