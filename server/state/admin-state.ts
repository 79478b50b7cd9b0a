// Operator changes to admin state and weight, decided without I/O: check the target, then make the
// next operator state and its audit entry. The control plane (control.ts) keeps them durably
// through an AdminStore before anything is visible, then publishes the AdminView.

import { parseServerAddress } from '../common/address.ts'
import type { AdminStateName } from '../config/schema.ts'
import type { GslbConfig } from '../gslb/build.ts'
import { namesLeftWithout } from '../gslb/guard.ts'
import type { AdminView, HealthView } from '../gslb/types.ts'
import type { AuditEntry } from './audit-log.ts'

/** An operator's override of one server or site, with who, why and when. */
export type AdminRecord = {
  readonly state: AdminStateName
  readonly weight: number | undefined
  readonly reason: string
  readonly actor: string
  readonly at: string
  /** When the override ends by itself (RFC 3339): a maintenance window. Absent: it stays until changed. */
  readonly until?: string | undefined
}

/** Every override, as the state file holds them. */
export type AdminFile = {
  readonly servers: Readonly<Record<string, AdminRecord>>
  readonly sites: Readonly<Record<string, AdminRecord>>
}

export type AdminTarget = { readonly kind: 'server'; readonly address: string } | { readonly kind: 'site'; readonly site: string }

/**
 * A state or weight to set (with `until`, when it ends by itself), or an override to clear:
 * `clear: 'state'` puts the state back to enabled, `'weight'` the configured weight, `'all'` both.
 * `force`: make the change even when it leaves GSLB names with no server to answer (the guard rail).
 */
export type AdminChange = {
  readonly state?: AdminStateName
  readonly weight?: number
  readonly reason: string
  readonly until?: string | undefined
  readonly clear?: 'state' | 'weight' | 'all' | undefined
  readonly force?: boolean | undefined
}

/** The heaviest weight an operator can set (the config's limit too). */
export const MAX_WEIGHT = 1000

/**
 * A refused change: 400 for a target that is no address, 404 for one that names nothing served,
 * 409 for one that would leave GSLB names (`names`) with no server to answer, 503 while the
 * fleet's store (etcd) cannot commit.
 */
export type AdminRefusal = { readonly ok: false; readonly status: 400 | 404 | 409 | 503; readonly message: string; readonly names?: readonly string[] }

/** `record`: the override now, or undefined when the change cleared it. */
export type AdminResult = { readonly ok: true; readonly target: AdminTarget; readonly record: AdminRecord | undefined } | AdminRefusal

/** A change another instance of the fleet made, as it arrived (`record` undefined: cleared). */
export type RemoteAdminChange = { readonly target: AdminTarget; readonly record: AdminRecord | undefined; readonly instance: string }

/**
 * Where operator state is kept: the local state file on one machine (admin-state-file.ts), etcd in
 * a fleet (etcd-admin-store.ts, with the state file as its cache).
 */
export type AdminStore = {
  /** The operator state as the store holds it now. */
  current(): AdminFile
  /**
   * Runs `decide` on the freshest state the store holds and keeps what it decides (the new state
   * and its audit entry) durably before resolving; a refusal keeps nothing. A store that finds the
   * state changed under it (another instance wrote first) decides again on the newer state.
   */
  commit(decide: (file: AdminFile) => AdminDecision): Promise<AdminDecision>
  /** Changes that arrive from elsewhere (other instances), after `current()` has them. */
  onRemoteChange(listener: (changes: readonly RemoteAdminChange[]) => void): void
  /** The newest `limit` audit entries, oldest first: this machine's log, or the whole fleet's. */
  audit(limit: number): Promise<readonly AuditEntry[]>
  /** Lets go of what it holds (the state file's lock). */
  close(): void
}

export type AdminDecision =
  | { readonly ok: true; readonly target: AdminTarget; readonly next: AdminFile; readonly record: AdminRecord | undefined; readonly entry: AuditEntry }
  | AdminRefusal

/**
 * What `change` by `actor` at time `at` makes of `file`, or why not: the target does not exist in
 * `gslb`, or (unless forced) the change leaves names with no server to answer under `health`.
 */
export function decideAdminChange(file: AdminFile, gslb: GslbConfig, health: HealthView, target: AdminTarget, change: AdminChange, actor: string, at: string): AdminDecision {
  let key: string
  if (target.kind === 'site') {
    key = target.site
  } else {
    const parsed = parseServerAddress(target.address)
    if (!parsed.ok) return { ok: false, status: 400, message: parsed.message }
    key = parsed.address
  }
  const section = target.kind === 'site' ? 'sites' : 'servers'
  const old = file[section][key]
  // An override left behind by a target the config no longer has can still be cleared.
  const known = target.kind === 'site' ? gslb.sites.has(key) : [...gslb.sites.values()].some((s) => s.vips.includes(key))
  if (!known && !(change.clear && old)) return { ok: false, status: 404, message: target.kind === 'site' ? `no site named '${key}'` : `no server (site VIP) with address '${key}'` }
  if (change.clear && !old) return { ok: false, status: 404, message: `${target.kind} ${key} has no override to clear` }
  const state = change.clear === 'state' || change.clear === 'all' ? 'enabled' : (change.state ?? old?.state ?? 'enabled')
  const weight = change.clear === 'weight' || change.clear === 'all' ? undefined : (change.weight ?? old?.weight)
  // A cleared override that leaves nothing to say (enabled, configured weight) is removed.
  const record: AdminRecord | undefined = state === 'enabled' && weight === undefined && change.clear ? undefined : {
    state, weight, reason: change.reason, actor, at,
    ...(change.clear ? (old?.until ? { until: old.until } : {}) : change.until ? { until: change.until } : {}),
  }
  const others = Object.fromEntries(Object.entries(file[section]).filter(([k]) => k !== key))
  const next: AdminFile = { ...file, [section]: record ? { ...others, [key]: record } : others }
  const broken = change.force ? [] : namesLeftWithout(gslb.names, health, adminView(file), adminView(next))
  if (broken.length > 0) return { ok: false, status: 409, names: broken, message: `this would leave ${broken.join(', ')} with no server to answer; send "force": true to do it anyway` }
  const entry: AuditEntry = { at, actor, target: `${target.kind} ${key}`, from: old ? { state: old.state, weight: old.weight } : null, to: record ? { state: record.state, weight: record.weight, ...(record.until ? { until: record.until } : {}) } : null, reason: change.reason }
  return { ok: true, target: target.kind === 'site' ? target : { kind: 'server', address: key }, next, record, entry }
}

/** The overrides whose `until` has passed at `nowMs`, oldest end first. */
export function expiredOverrides(file: AdminFile, nowMs: number): { readonly target: AdminTarget; readonly until: string }[] {
  return (['servers', 'sites'] as const)
    .flatMap((section) => Object.entries(file[section]).flatMap(([key, record]) => (record.until && Date.parse(record.until) <= nowMs ? [{ target: adminTarget(section, key), until: record.until }] : [])))
    .sort((a, b) => Date.parse(a.until) - Date.parse(b.until))
}

/** When the next override ends (ms), if any has an end. */
export function nextExpiry(file: AdminFile): number | undefined {
  const ends = (['servers', 'sites'] as const).flatMap((section) => Object.values(file[section]).flatMap((r) => (r.until ? [Date.parse(r.until)] : [])))
  return ends.length > 0 ? Math.min(...ends) : undefined
}

/** The override `key` of `section` names: a site, or a server by its address. */
export function adminTarget(section: 'servers' | 'sites', key: string): AdminTarget {
  return section === 'sites' ? { kind: 'site', site: key } : { kind: 'server', address: key }
}

/** The overrides GSLB tables read, from the operator state. */
export function adminView(file: AdminFile): AdminView {
  const entries = (records: Readonly<Record<string, AdminRecord>>) => new Map(Object.entries(records).map(([k, r]) => [k, { state: r.state, weight: r.weight }]))
  return { servers: entries(file.servers), sites: entries(file.sites) }
}
