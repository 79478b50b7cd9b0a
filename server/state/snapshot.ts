// One immutable value holding everything a query needs. Built off to the side, then swapped in
// with one assignment (state/store.ts); a query reads it once and never sees half a reload.
// Health and admin changes make a new snapshot that shares the zones and rebuilds only the GSLB tables.

import type { CompiledZone } from '../dns/compile.ts'
import { buildNodeFilter, type NodeFilter } from '../dns/node-filter.ts'
import { createNameMemo, type NameMemo } from '../dns/resolve-name.ts'
import type { GeoDb } from '../geo/geo-db.ts'
import type { GslbConfig } from '../gslb/build.ts'
import { buildNameTables, type NameTables } from '../gslb/tables.ts'
import type { AdminView, HealthView } from '../gslb/types.ts'

export type ZoneSet = {
  readonly byKey: ReadonlyMap<string, CompiledZone>
  /** The same zones grouped by key length, so a query finds its zone without cutting strings. */
  readonly byKeyLength: ReadonlyMap<number, readonly CompiledZone[]>
  /** Which names are nodes of these zones (their apexes among them), for names asked once. */
  readonly nodeFilter: NodeFilter
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
  /** Where names asked of this snapshot resolved: filled by queries, new with every snapshot. */
  readonly resolved: NameMemo
}

export const NO_ADMIN: AdminView = Object.freeze({ servers: new Map(), sites: new Map() })
export const EMPTY_GSLB: GslbConfig = Object.freeze({ names: [], sites: new Map() })

export function zoneSet(zones: readonly CompiledZone[]): ZoneSet {
  const byKeyLength = new Map<number, CompiledZone[]>()
  for (const zone of zones) {
    const sameLength = byKeyLength.get(zone.key.length)
    if (sameLength) sameLength.push(zone)
    else byKeyLength.set(zone.key.length, [zone])
  }
  const nodeFilter = buildNodeFilter(zones.flatMap((zone) => [...zone.nodes.keys()]))
  return Object.freeze({ byKey: new Map(zones.map((z) => [z.key, z])), byKeyLength, nodeFilter })
}

export function buildSnapshot(generation: number, zones: ZoneSet, config: GslbConfig, health: HealthView, admin: AdminView, geo: GeoDb | undefined): Snapshot {
  return snapshot(generation, zones, gslbState(config, health, admin), geo)
}

export function withHealth(current: Snapshot, health: HealthView): Snapshot {
  return snapshot(current.generation + 1, current.zones, gslbState(current.gslb.config, health, current.gslb.admin), current.geo)
}

export function withAdmin(current: Snapshot, admin: AdminView): Snapshot {
  return snapshot(current.generation + 1, current.zones, gslbState(current.gslb.config, current.gslb.health, admin), current.geo)
}

/** Every snapshot gets a fresh name memo: the old one points at the old tables. */
function snapshot(generation: number, zones: ZoneSet, gslb: GslbState, geo: GeoDb | undefined): Snapshot {
  return Object.freeze({ generation, zones, gslb, geo, resolved: createNameMemo() })
}

function gslbState(config: GslbConfig, health: HealthView, admin: AdminView): GslbState {
  const tables = new Map(config.names.map((name) => [name.key, buildNameTables(name, health, admin)]))
  return Object.freeze({ config, health, admin, tables })
}
