// Operator changes to admin state and weight: validate the target, persist the whole state file
// (durable before anything is visible), append the audit log, then hand the new AdminView on to be
// published. All of it is synchronous, so changes are serialized by the event loop itself.

import type { AdminStateName } from '../config/schema.ts'
import type { GslbConfig } from '../gslb/build.ts'
import type { AdminView } from '../gslb/types.ts'
import { canonicalAddress } from '../net/address.ts'
import { persistAdminFile, type AdminFile, type AdminRecord } from './admin-state-file.ts'
import { appendAudit } from './audit-log.ts'

export type AdminTarget = { readonly kind: 'server'; readonly address: string } | { readonly kind: 'site'; readonly site: string }

export type AdminChange = { readonly state?: AdminStateName; readonly weight?: number; readonly reason: string }

export type AdminResult =
  | { readonly ok: true; readonly record: AdminRecord }
  | { readonly ok: false; readonly status: 404; readonly message: string }

export type AdminControl = {
  readonly current: () => AdminFile
  apply(target: AdminTarget, change: AdminChange, actor: string): AdminResult
}

export type AdminControlDeps = {
  readonly initial: AdminFile
  readonly stateFile: string
  readonly auditLog: string
  readonly gslb: () => GslbConfig
  readonly publish: (view: AdminView) => void
  readonly now: () => Date
}

export function adminView(file: AdminFile): AdminView {
  const entries = (records: Readonly<Record<string, AdminRecord>>) => new Map(Object.entries(records).map(([k, r]) => [k, { state: r.state, weight: r.weight }]))
  return { servers: entries(file.servers), sites: entries(file.sites) }
}

export function createAdminControl(deps: AdminControlDeps): AdminControl {
  let file = deps.initial
  return {
    current: () => file,
    apply(target, change, actor) {
      const gslb = deps.gslb()
      let key: string
      if (target.kind === 'site') {
        if (!gslb.sites.has(target.site)) return { ok: false, status: 404, message: `no site named '${target.site}'` }
        key = target.site
      } else {
        key = canonicalAddress(target.address)
        if (![...gslb.sites.values()].some((s) => s.vips.includes(key))) return { ok: false, status: 404, message: `no server (site VIP) with address '${target.address}'` }
      }
      const section = target.kind === 'site' ? 'sites' : 'servers'
      const old = file[section][key]
      const record: AdminRecord = {
        state: change.state ?? old?.state ?? 'enabled',
        weight: change.weight ?? old?.weight,
        reason: change.reason,
        actor,
        at: deps.now().toISOString(),
      }
      const next: AdminFile = { ...file, [section]: { ...file[section], [key]: record } }
      persistAdminFile(deps.stateFile, next)
      appendAudit(deps.auditLog, { at: record.at, actor, target: `${target.kind} ${key}`, from: old ? { state: old.state, weight: old.weight } : null, to: { state: record.state, weight: record.weight }, reason: change.reason })
      file = next
      deps.publish(adminView(file))
      return { ok: true, record }
    },
  }
}
