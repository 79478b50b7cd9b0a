// Runs the real `dig` against a test server and reads its output into sections.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export type DigResult = {
  readonly status: string
  readonly flags: readonly string[]
  readonly answer: readonly string[]
  readonly authority: readonly string[]
  readonly additional: readonly string[]
  readonly opt: string
  readonly text: string
}

/** `dig @host -p port <args>`; records come back as single-space-joined fields. */
export async function dig(port: number, args: readonly string[], host = '127.0.0.1'): Promise<DigResult> {
  const { stdout } = await run('dig', [`@${host}`, '-p', String(port), '+norec', '+nocookie', '+time=2', '+tries=1', ...args])
  return parseDig(stdout)
}

export function parseDig(text: string): DigResult {
  const status = /status: ([A-Z0-9]+)/.exec(text)?.[1] ?? ''
  const flags = (/;; flags: ([^;]*);/.exec(text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean)
  const section = (name: string): string[] => {
    const match = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(text)
    return match ? (match[1] as string).split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).join(' ')) : []
  }
  const opt = /;; OPT PSEUDOSECTION:\n([\s\S]*?)(?:\n;; [A-Z]|\n\n)/.exec(text)?.[1] ?? ''
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), opt, text }
}
