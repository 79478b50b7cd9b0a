// One immutable value holding everything a query needs. Built off to the side, then swapped in
// with one assignment (state/store.ts); a query reads it once and never sees half a reload.
// Health and admin changes make a new snapshot that shares the zones and rebuilds only the GSLB tables.

import type { CompiledZone } from '../dns/compile.ts'
import type { GeoDb } from '../geo/geo-db.ts'
import type { GslbConfig } from '../gslb/build.ts'
import { buildNameTables, type NameTables } from '../gslb/tables.ts'
import type { AdminView, HealthView } from '../gslb/types.ts'

export type ZoneSet = {
  readonly byKey: ReadonlyMap<string, CompiledZone>
  /** The same zones grouped by key length, so a query finds its zone without cutting strings. */
  readonly byKeyLength: ReadonlyMap<number, readonly CompiledZone[]>
}

export type GslbState = {
  readonly config: GslbConfig
  readonly health: HealthView
  readonly admin: AdminView
  /** Ready answers per GSLB name key, for the health and admin state above. */
  readonly tables: ReadonlyMap<string, NameTables>
}

export type Snapshot = {
  readonly generation: number
  readonly zones: ZoneSet
  readonly gslb: GslbState
  readonly geo: GeoDb | undefined
}

export const NO_ADMIN: AdminView = Object.freeze({ servers: new Map(), sites: new Map() })
export const EMPTY_GSLB: GslbConfig = Object.freeze({ names: [], sites: new Map() })

export function zoneSet(zones: readonly CompiledZone[]): ZoneSet {
  const byKeyLength = new Map<number, CompiledZone[]>()
  for (const zone of zones) byKeyLength.set(zone.key.length, [...(byKeyLength.get(zone.key.length) ?? []), zone])
  return Object.freeze({ byKey: new Map(zones.map((z) => [z.key, z])), byKeyLength })
}

export function buildSnapshot(generation: number, zones: ZoneSet, config: GslbConfig, health: HealthView, admin: AdminView, geo: GeoDb | undefined): Snapshot {
  return Object.freeze({ generation, zones, gslb: gslbState(config, health, admin), geo })
}

export function withHealth(snapshot: Snapshot, health: HealthView): Snapshot {
  return Object.freeze({ ...snapshot, generation: snapshot.generation + 1, gslb: gslbState(snapshot.gslb.config, health, snapshot.gslb.admin) })
}

export function withAdmin(snapshot: Snapshot, admin: AdminView): Snapshot {
  return Object.freeze({ ...snapshot, generation: snapshot.generation + 1, gslb: gslbState(snapshot.gslb.config, snapshot.gslb.health, admin) })
}

function gslbState(config: GslbConfig, health: HealthView, admin: AdminView): GslbState {
  const tables = new Map(config.names.map((name) => [name.key, buildNameTables(name, health, admin)]))
  return Object.freeze({ config, health, admin, tables })
}
