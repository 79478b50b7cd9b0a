// Where a query name lands in a snapshot: its zone, its node (the closest encloser) and, for an
// existing name, its GSLB tables. Hot names are asked again and again, so each snapshot carries a
// memo of these lookups, indexed by the name's key-cache slot: a repeat costs one compare
// instead of three Map lookups. The memo dies with its snapshot, so it never answers from old
// health, admin or zone data, and never keeps an old zone set alive after a reload.

import type { CompiledNode, CompiledZone } from './compile.ts'
import { KEY_SLOTS } from './wire/key-cache.ts'
import type { NameTables } from '../gslb/tables.ts'
import type { Snapshot, ZoneSet } from '../state/snapshot.ts'
import { closestEncloser } from '../zone/lookup.ts'

export type ResolvedName = {
  readonly key: string
  readonly zone: CompiledZone
  readonly node: CompiledNode
  /** The node is the name itself, not an ancestor. */
  readonly exact: boolean
  readonly tables: NameTables | undefined
}

/** One slot per key-cache slot; a slot holds the last name resolved there. */
export type NameMemo = (ResolvedName | undefined)[]

export function createNameMemo(): NameMemo {
  return new Array<ResolvedName | undefined>(KEY_SLOTS).fill(undefined)
}

/** The name's zone, node and GSLB tables, or undefined when no zone of ours holds it. */
export function resolveName(snapshot: Snapshot, key: string, slot: number): ResolvedName | undefined {
  const memo = snapshot.resolved
  const seen = memo[slot]
  if (seen !== undefined && seen.key === key) return seen
  const zone = findZone(snapshot.zones, key)
  if (!zone) return undefined
  const { node, exact } = closestEncloser(zone.nodes, key)
  const resolved: ResolvedName = { key, zone, node, exact, tables: exact ? snapshot.gslb.tables.get(key) : undefined }
  memo[slot] = resolved
  return resolved
}

/** The zone with the longest origin that is a suffix of the key, if any (no substring is made). */
export function findZone(zones: ZoneSet, key: string): CompiledZone | undefined {
  const byKeyLength = zones.byKeyLength
  let offset = 0
  for (;;) {
    const candidates = byKeyLength.get(key.length - offset)
    if (candidates) for (const zone of candidates) if (key.endsWith(zone.key)) return zone
    const length = key.charCodeAt(offset)
    if (length === 0 || Number.isNaN(length)) return undefined
    offset += length + 1
  }
}
