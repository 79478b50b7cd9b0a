// One immutable value holding everything a query needs. Built off to the side, then swapped in
// with one assignment (state/store.ts); a query reads it once and never sees half a reload.

import type { CompiledZone } from '../dns/compile.ts'

export type ZoneSet = {
  readonly byKey: ReadonlyMap<string, CompiledZone>
}

export type Snapshot = {
  readonly generation: number
  readonly zones: ZoneSet
}

export function buildSnapshot(generation: number, zones: readonly CompiledZone[]): Snapshot {
  return Object.freeze({ generation, zones: Object.freeze({ byKey: new Map(zones.map((z) => [z.key, z])) }) })
}
