// The zones being served, as one value: by key, and grouped by key length so a query name finds its
// zone without cutting strings.

import type { CompiledZone } from './compile.ts'

export type ZoneSet = {
  readonly byKey: ReadonlyMap<string, CompiledZone>
  /** The same zones grouped by key length, so a query finds its zone without cutting strings. */
  readonly byKeyLength: ReadonlyMap<number, readonly CompiledZone[]>
}

export function zoneSet(zones: readonly CompiledZone[]): ZoneSet {
  const byKeyLength = new Map<number, CompiledZone[]>()
  for (const zone of zones) {
    const sameLength = byKeyLength.get(zone.key.length)
    if (sameLength) sameLength.push(zone)
    else byKeyLength.set(zone.key.length, [zone])
  }
  return Object.freeze({ byKey: new Map(zones.map((z) => [z.key, z])), byKeyLength })
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
