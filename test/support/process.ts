// Runs `signpost serve` as its own process (the way an operator does), on ephemeral ports.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

/** The command line, run from a fresh folder of its own: paths given relative to the repository are made absolute. */
export function inOwnFolder(args: readonly string[], cwd?: string): { cwd: string; args: string[] } {
  const absolute = args.map((arg, i) => (i > 0 && (args[i - 1] === '--zones' || args[i - 1] === '--config') && !isAbsolute(arg) ? resolve(arg) : arg))
  // Each process's default and relative state paths (var/…) are its own: two instances never share a state file.
  return { cwd: cwd ?? mkdtempSync(join(tmpdir(), 'signpost-cwd-')), args: [resolve('server/main.ts'), ...absolute] }
}

/** A one-shot `signpost ARGS` (check, keys new, ds) run to its end; its stdout (a non-zero exit throws, with stdout on the error). */
export function runSignpost(args: readonly string[]): string {
  return execFileSync(process.execPath, [join(import.meta.dirname, '../../server/main.ts'), ...args], { encoding: 'utf8' })
}

export type ServerProcess = {
  readonly child: ChildProcess
  /** Its working folder: its state file and audit log are in var/ there. */
  readonly cwd: string
  readonly port: number
  readonly adminPort: number
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[]
  stop(): Promise<number | null>
}

/**
 * `nodeFlags` go to node itself, before the script (e.g. Node's own test switches); `fileLimit` runs
 * it under `ulimit -n`; `cwd` starts it again where an earlier one ran. Without `--listen` or
 * `--admin` in `args`, each is on an ephemeral port.
 */
export async function spawnSignpost(args: readonly string[], nodeFlags: readonly string[] = [], fileLimit?: number, cwd?: string): Promise<ServerProcess> {
  const ephemeral = (flag: string): string[] => (args.includes(flag) ? [] : [flag, '127.0.0.1:0'])
  const own = inOwnFolder(['serve', ...ephemeral('--listen'), ...ephemeral('--admin'), ...args], cwd)
  const command = [process.execPath, ...nodeFlags, ...own.args]
  const options = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], cwd: own.cwd }
  const child = fileLimit === undefined
    ? spawn(command[0] as string, command.slice(1), options)
    : spawn('bash', ['-c', `ulimit -n ${fileLimit} && exec "$@"`, 'bash', ...command], options)
  const logs: Record<string, unknown>[] = []
  let buffered = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signpost did not start: ${stderr}`)), 20_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`signpost exited with ${code}: ${stderr} ${JSON.stringify(logs)}`))
    })
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (entry['msg'] === 'signpost started') {
          clearTimeout(timer)
          resolve(entry)
        }
      }
    })
  })
  const entry = await started
  const port = Number(/:(\d+)$/.exec((entry['dns'] as string[])[0] as string)?.[1])
  const adminPort = Number(/:(\d+)$/.exec(entry['admin'] as string)?.[1])
  const stop = (): Promise<number | null> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
      child.once('exit', (code) => resolve(code))
      child.kill('SIGTERM')
    })
  return { child, cwd: own.cwd, port, adminPort, logs, stop }
}
