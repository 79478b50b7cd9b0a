// An operator's own check (keepalived's MISC_CHECK, gdnsd's extmon): run a command with the
// target's address, exit 0 is up, anything else (or the timeout) is down; what it printed goes
// into the reason (probe.ts bounds how many run at once). Each runs in a process group of its own, so a timeout kills what the script started too (a `sleep` under a
// shell), not the shell alone.

import { spawn } from 'node:child_process'
import { failure } from './failure.ts'
import type { ProbeResult } from './types.ts'

const OUTPUT_IN_REASON = 200

export type ExecRunner = {
  run(command: readonly string[], address: string, timeoutMs: number): Promise<ProbeResult>
  /** Kills every command still running (the checker stops: a reload, or shutdown). */
  stop(): void
}

export function createExecRunner(): ExecRunner {
  const groups = new Set<number>()
  return {
    run(command, address, timeoutMs) {
      const [file, ...args] = command.map((part) => part.replaceAll('{address}', address))
      return runCommand(file!, args, timeoutMs, performance.now(), groups)
    },
    stop() {
      for (const pid of groups) killGroup(pid)
    },
  }
}

/** Runs one command in its own process group, noted in `groups` while it runs. */
function runCommand(file: string, args: readonly string[], timeoutMs: number, started: number, groups: Set<number>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const pid = child.pid
    if (pid !== undefined) groups.add(pid)
    let output = ''
    const collect = (chunk: Buffer): void => void (output.length < OUTPUT_IN_REASON * 4 && (output += chunk.toString()))
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid)
    }, timeoutMs)
    const said = (): string => {
      const text = output.trim().replace(/\s+/g, ' ').slice(0, OUTPUT_IN_REASON)
      return text ? `: ${text}` : ''
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (pid !== undefined) groups.delete(pid)
      resolve(failure(error.code === 'EAGAIN' || error.code === 'EMFILE' ? 'local' : 'error', `${file}: ${error.code ?? error.message}`, started))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (pid !== undefined) groups.delete(pid)
      if (timedOut) return resolve(failure('timeout', `${file} ran past ${timeoutMs} ms${said()}`, started))
      if (code === 0) return resolve({ ok: true, ms: Math.round(performance.now() - started) })
      resolve(failure('error', `${file} exited ${code ?? signal}${said()}`, started))
    })
  })
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
