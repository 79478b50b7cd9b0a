// The config's server settings, as a reload sees them: those applied live (admin tokens, which is
// how a leaked token is rotated; protect_reads; the log level) and those read only at start (what
// is bound, the state file, the worker threads, TCP limits), for which a reload is refused rather
// than answered `ok` while nothing changes.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { ConfigLocator } from '../config/load-config.ts'
import type { Config } from '../config/schema.ts'
import type { Problem } from '../common/problem.ts'

/** What a token may do: `read` (reads, when they are protected), `operate` (state, weight, keepalived events), `admin` (also reload). */
export type Role = 'read' | 'operate' | 'admin'
export const ROLES: readonly Role[] = ['read', 'operate', 'admin']

/** A bearer token and its role. */
export type AdminToken = { readonly token: string; readonly role: Role }

export type LiveSettings = {
  /** Bearer tokens by name; none turns admin writes off. */
  readonly tokens: ReadonlyMap<string, AdminToken>
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
 * Admin tokens: `admin.tokens_file` (relative to the config; one `name token [role]` per line,
 * `#` comments) and the variable named by `admin.tokens_env` (default SIGNPOST_ADMIN_TOKEN): one
 * token (named "admin") or `name:token[:role],…`. No role means `admin`, as before roles existed.
 * Then protect_reads and the log level.
 */
export function readSettings(config: Config, configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): SettingsResult {
  let tokens = new Map<string, AdminToken>()
  if (config.admin?.tokens_file) {
    const path = resolve(configFile ? dirname(configFile) : '.', config.admin.tokens_file)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      return { ok: false, message: `cannot read admin.tokens_file ${path}: ${(error as Error).message}` }
    }
    const parsed = parseTokens(text)
    if (!parsed.ok) return { ok: false, message: `${path}:${parsed.line}: ${parsed.message}` }
    tokens = parsed.tokens
  }
  const variable = config.admin?.tokens_env ?? 'SIGNPOST_ADMIN_TOKEN'
  const fromEnv = env[variable]
  for (const entry of fromEnv ? fromEnv.split(',') : []) {
    const parts = entry.split(':')
    const role = parts.length >= 3 ? (parts.pop() as string) : 'admin'
    const [name, token] = parts.length >= 2 ? [parts[0] as string, parts.slice(1).join(':')] : ['admin', entry]
    if (!isRole(role)) return { ok: false, message: `${variable}: token '${name}' has role '${role}'; a role is read, operate or admin` }
    if (name && token) tokens.set(name, { token, role })
  }
  return { ok: true, settings: { tokens, protectReads: config.admin?.protect_reads ?? false, logLevel: config.log?.level ?? 'info' } }
}

export type TokensResult = { readonly ok: true; readonly tokens: Map<string, AdminToken> } | { readonly ok: false; readonly line: number; readonly message: string }

/** Tokens file: one `name token [role]` per line; `#` starts a comment. */
export function parseTokens(text: string): TokensResult {
  const tokens = new Map<string, AdminToken>()
  for (const [index, line] of text.split('\n').entries()) {
    const [name, token, role = 'admin', ...rest] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (!name || !token) continue
    if (rest.length > 0 || !isRole(role)) return { ok: false, line: index + 1, message: `expected "name token [role]", a role being read, operate or admin (token '${name}')` }
    tokens.set(name, { token, role })
  }
  return { ok: true, tokens }
}

function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text)
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
