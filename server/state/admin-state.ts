// Operator changes to admin state and weight, decided without I/O: check the target, then make the
// next operator state and its audit entry. The control plane (control.ts) keeps them durably
// through an AdminStore before anything is visible, then publishes the AdminView.

import { parseServerAddress } from '../common/address.ts'
import type { AdminStateName } from '../config/schema.ts'
import type { GslbConfig } from '../gslb/build.ts'
import type { AdminView } from '../gslb/types.ts'
import type { AuditEntry } from './audit-log.ts'

/** An operator's override of one server or site, with who, why and when. */
export type AdminRecord = {
  readonly state: AdminStateName
  readonly weight: number | undefined
  readonly reason: string
  readonly actor: string
  readonly at: string
}

/** Every override, as the state file holds them. */
export type AdminFile = {
  readonly servers: Readonly<Record<string, AdminRecord>>
  readonly sites: Readonly<Record<string, AdminRecord>>
}

export type AdminTarget = { readonly kind: 'server'; readonly address: string } | { readonly kind: 'site'; readonly site: string }

export type AdminChange = { readonly state?: AdminStateName; readonly weight?: number; readonly reason: string }

/** The heaviest weight an operator can set (the config's limit too). */
export const MAX_WEIGHT = 1000

/** A refused change: 400 for a target that is no address, 404 for one that names nothing served. */
export type AdminRefusal = { readonly ok: false; readonly status: 400 | 404; readonly message: string }

export type AdminResult = { readonly ok: true; readonly target: AdminTarget; readonly record: AdminRecord } | AdminRefusal

/** Where operator state is kept: the local state file (admin-state-file.ts) on one machine. */
export type AdminStore = {
  /** The operator state as it was kept when the server started. */
  readonly initial: AdminFile
  /** Keeps `next` and appends `entry` to the audit log, durably; a failure throws and keeps nothing new. */
  commit(next: AdminFile, entry: AuditEntry): Promise<void>
  /** Lets go of what it holds (the state file's lock). */
  close(): void
}

export type AdminDecision =
  | { readonly ok: true; readonly target: AdminTarget; readonly next: AdminFile; readonly record: AdminRecord; readonly entry: AuditEntry }
  | AdminRefusal

/** What `change` by `actor` at time `at` makes of `file`, or why the target does not exist in `gslb`. */
export function decideAdminChange(file: AdminFile, gslb: GslbConfig, target: AdminTarget, change: AdminChange, actor: string, at: string): AdminDecision {
  let key: string
  if (target.kind === 'site') {
    if (!gslb.sites.has(target.site)) return { ok: false, status: 404, message: `no site named '${target.site}'` }
    key = target.site
  } else {
    const parsed = parseServerAddress(target.address)
    if (!parsed.ok) return { ok: false, status: 400, message: parsed.message }
    key = parsed.address
    if (![...gslb.sites.values()].some((s) => s.vips.includes(key))) return { ok: false, status: 404, message: `no server (site VIP) with address '${key}'` }
  }
  const section = target.kind === 'site' ? 'sites' : 'servers'
  const old = file[section][key]
  const record: AdminRecord = {
    state: change.state ?? old?.state ?? 'enabled',
    weight: change.weight ?? old?.weight,
    reason: change.reason,
    actor,
    at,
  }
  const next: AdminFile = { ...file, [section]: { ...file[section], [key]: record } }
  const entry: AuditEntry = { at, actor, target: `${target.kind} ${key}`, from: old ? { state: old.state, weight: old.weight } : null, to: { state: record.state, weight: record.weight }, reason: change.reason }
  return { ok: true, target: target.kind === 'site' ? target : { kind: 'server', address: key }, next, record, entry }
}

/** The overrides GSLB tables read, from the operator state. */
export function adminView(file: AdminFile): AdminView {
  const entries = (records: Readonly<Record<string, AdminRecord>>) => new Map(Object.entries(records).map(([k, r]) => [k, { state: r.state, weight: r.weight }]))
  return { servers: entries(file.servers), sites: entries(file.sites) }
}
