// One value holding everything a query needs. Built off to the side, then swapped in with one
// assignment (store.ts); a query reads it once and never sees half a reload. Health, admin and
// load changes make a new snapshot that shares the zones and rebuilds only the GSLB tables.
//
// Immutable but for its cache part: what queries learn while answering from it (where names
// resolved, name-slots.ts), kept beside the data it was learnt from and dropped with it. Filling a
// cache never changes an answer: a cached outcome is what the lookup it saves returns for the same
// snapshot, and a new snapshot starts with an empty cache, so nothing learnt from old health, admin
// or zone data is ever read again.

import { NO_DEFENCE, type DefenceSettings } from '../abuse/settings.ts'
import type { ZoneSigning } from '../dnssec/sign-zone.ts'
import type { GeoDb } from '../geo/geo-db.ts'
import type { GslbConfig } from '../gslb/build.ts'
import { buildNameTables, type NameTables } from '../gslb/tables.ts'
import { NO_LOAD } from '../gslb/load.ts'
import type { AdminView, HealthView, LoadView } from '../gslb/types.ts'
import type { CompiledNode, CompiledZone } from '../zone/compile.ts'
import type { ZoneSet } from '../zone/zone-set.ts'
import { createNameMemo, type NameMemo } from './name-slots.ts'
import { buildNodeFilter, type NodeFilter } from './node-filter.ts'
import type { SignedPlan } from './sign-answer.ts'

export type GslbState = {
  readonly config: GslbConfig
  readonly health: HealthView
  readonly admin: AdminView
  readonly load: LoadView
  /** Ready answers per GSLB name key, for the health, admin and load state above. */
  readonly tables: ReadonlyMap<string, NameTables>
}

/** Where a name resolved: its zone, its closest encloser, and its GSLB tables when it is a GSLB name itself. */
export type ResolvedName = {
  readonly zone: CompiledZone
  readonly node: CompiledNode
  /** The node is the name itself, not an ancestor. */
  readonly exact: boolean
  readonly tables: NameTables | undefined
}

/** What queries fill in while answering from one snapshot, on this thread only. */
export type SnapshotCache = {
  /** Where names resolved (undefined: in no zone of ours). */
  readonly names: NameMemo<ResolvedName | undefined>
  /** Plans signed for DO queries, by plan id (and question name, where the signature depends on it). */
  readonly signed: Map<number | string, SignedPlan>
}

/** The signed zones of a snapshot, by zone key, and how many signed plans a snapshot's cache keeps. */
export type SnapshotDnssec = {
  readonly zones: ReadonlyMap<string, ZoneSigning>
  readonly cacheSize: number
}

export const NO_DNSSEC: SnapshotDnssec = Object.freeze({ zones: new Map(), cacheSize: 0 })

export type Snapshot = {
  readonly generation: number
  readonly zones: ZoneSet
  /** Which names are nodes of `zones`: built with them, shared by the snapshots that share them. */
  readonly nodeFilter: NodeFilter
  readonly gslb: GslbState
  readonly geo: GeoDb | undefined
  /** Response rate limiting and DNS Cookies, as the config says (changed by a reload only). */
  readonly defence: DefenceSettings
  /** Signing state of the zones that are signed (built with the zones, changed by a reload or a re-signing). */
  readonly dnssec: SnapshotDnssec
  /** New with every snapshot; the only part written after it is built (see the header). */
  readonly cache: SnapshotCache
}

export const NO_ADMIN: AdminView = Object.freeze({ servers: new Map(), sites: new Map() })
export const EMPTY_GSLB: GslbConfig = Object.freeze({ names: [], sites: new Map() })

export function buildSnapshot(generation: number, zones: ZoneSet, config: GslbConfig, health: HealthView, admin: AdminView, geo: GeoDb | undefined, load: LoadView = NO_LOAD, defence: DefenceSettings = NO_DEFENCE, dnssec: SnapshotDnssec = NO_DNSSEC): Snapshot {
  return snapshot(generation, zones, buildNodeFilter(zones), gslbState(config, health, admin, load), geo, defence, dnssec)
}

export function withHealth(current: Snapshot, health: HealthView): Snapshot {
  const { config, admin, load } = current.gslb
  return snapshot(current.generation + 1, current.zones, current.nodeFilter, gslbState(config, health, admin, load), current.geo, current.defence, current.dnssec)
}

export function withAdmin(current: Snapshot, admin: AdminView): Snapshot {
  const { config, health, load } = current.gslb
  return snapshot(current.generation + 1, current.zones, current.nodeFilter, gslbState(config, health, admin, load), current.geo, current.defence, current.dnssec)
}

export function withLoad(current: Snapshot, load: LoadView): Snapshot {
  const { config, health, admin } = current.gslb
  return snapshot(current.generation + 1, current.zones, current.nodeFilter, gslbState(config, health, admin, load), current.geo, current.defence, current.dnssec)
}

/** Every snapshot gets a fresh cache: the old one points at the old tables. */
function snapshot(generation: number, zones: ZoneSet, nodeFilter: NodeFilter, gslb: GslbState, geo: GeoDb | undefined, defence: DefenceSettings, dnssec: SnapshotDnssec): Snapshot {
  return Object.freeze({ generation, zones, nodeFilter, gslb, geo, defence, dnssec, cache: Object.freeze({ names: createNameMemo<ResolvedName | undefined>(), signed: new Map() }) })
}

function gslbState(config: GslbConfig, health: HealthView, admin: AdminView, load: LoadView): GslbState {
  const tables = new Map(config.names.map((name) => [name.key, buildNameTables(name, health, admin, load)]))
  return Object.freeze({ config, health, admin, load, tables })
}
