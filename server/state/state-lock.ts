// One instance per state file: an O_EXCL lock file beside it holding the owner's pid. A lock whose
// pid is gone (a crash, kill -9) is stale and taken over; a live owner makes a second instance
// refuse to start. Sharing state between instances is the fleet's job (etcd), never two processes
// rewriting one file.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { StartupError } from '../common/startup-error.ts'

export type StateLock = { readonly path: string; release(): void }

export function lockStateFile(stateFile: string): StateLock {
  const path = `${stateFile}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(dirname(stateFile), { recursive: true })
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
      return {
        path,
        release() {
          if (ownerOf(path) === process.pid) rmSync(path, { force: true })
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`cannot lock the admin state file ${stateFile}: ${(error as Error).message}`)
    }
    const owner = ownerOf(path)
    if (owner !== undefined && isAlive(owner)) throw new StartupError(`the admin state file ${stateFile} is in use by another Signpost (pid ${owner}, lock ${path}); each instance needs its own admin.state_file`)
    rmSync(path, { force: true }) // stale: its owner is gone
  }
  throw new StartupError(`cannot lock the admin state file ${stateFile}: ${path} keeps coming back`)
}

/** The live process holding `stateFile`'s lock, if any. */
export function lockOwner(stateFile: string): number | undefined {
  const owner = ownerOf(`${stateFile}.lock`)
  return owner !== undefined && isAlive(owner) ? owner : undefined
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
