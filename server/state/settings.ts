// The config's server settings, as a reload sees them: those applied live (admin tokens, which is
// how a leaked token is rotated; protect_reads; the log level) and those read only at start (what
// is bound, the state file, the worker threads, TCP limits), for which a reload is refused rather
// than answered `ok` while nothing changes.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { ConfigLocator } from '../config/load-config.ts'
import type { Config } from '../config/schema.ts'
import type { Problem } from '../common/problem.ts'

export type LiveSettings = {
  /** Named bearer tokens; none turns admin writes off. */
  readonly tokens: ReadonlyMap<string, string>
  /** Reads of the admin API need a token too. */
  readonly protectReads: boolean
  readonly logLevel: string
}

export type SettingsResult = { readonly ok: true; readonly settings: LiveSettings } | { readonly ok: false; readonly message: string }

/** Config paths read only at start, and what each is. */
const AT_START: readonly (readonly [path: readonly string[], what: string])[] = [
  [['listen'], 'the DNS listen addresses'],
  [['workers'], 'the DNS worker threads'],
  [['zones'], 'the zone folder'],
  [['admin', 'listen'], 'the admin API address'],
  [['admin', 'state_file'], 'the admin state file'],
  [['admin', 'audit_log'], 'the audit log'],
  [['tcp'], 'the TCP limits'],
  [['log', 'queries'], 'query logging'],
  [['cluster'], 'the fleet (cluster: instance and etcd)'],
]

/**
 * Admin tokens: `admin.tokens_file` (relative to the config; one `name token` per line, `#`
 * comments) and the variable named by `admin.tokens_env` (default SIGNPOST_ADMIN_TOKEN): one
 * token (named "admin") or `name:token,…`. Then protect_reads and the log level.
 */
export function readSettings(config: Config, configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): SettingsResult {
  let tokens = new Map<string, string>()
  if (config.admin?.tokens_file) {
    const path = resolve(configFile ? dirname(configFile) : '.', config.admin.tokens_file)
    try {
      tokens = parseTokens(readFileSync(path, 'utf8'))
    } catch (error) {
      return { ok: false, message: `cannot read admin.tokens_file ${path}: ${(error as Error).message}` }
    }
  }
  const fromEnv = env[config.admin?.tokens_env ?? 'SIGNPOST_ADMIN_TOKEN']
  for (const entry of fromEnv ? fromEnv.split(',') : []) {
    const [name, token] = entry.includes(':') ? [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)] : ['admin', entry]
    if (name && token) tokens.set(name, token)
  }
  return { ok: true, settings: { tokens, protectReads: config.admin?.protect_reads ?? false, logLevel: config.log?.level ?? 'info' } }
}

/** Tokens file: one `name token` per line; `#` starts a comment. */
export function parseTokens(text: string): Map<string, string> {
  const tokens = new Map<string, string>()
  for (const line of text.split('\n')) {
    const [name, token] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (name && token) tokens.set(name, token)
  }
  return tokens
}

/** One problem per setting read only at start that `after` changes, located in the new file. */
export function restartOnlyChanges(before: Config, after: Config, locate: ConfigLocator): Problem[] {
  return AT_START.flatMap(([path, what]) => {
    if (JSON.stringify(at(before, path)) === JSON.stringify(at(after, path))) return []
    return [{ code: 'config' as const, ...locate(path), message: `${path.join('.')} (${what}) is read only at start: restart Signpost to change it; nothing was reloaded` }]
  })
}

function at(config: Config, path: readonly string[]): unknown {
  let value: unknown = config
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
  return value
}
