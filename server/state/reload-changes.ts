// What a reload changed, for the reply and the log: zones added and removed, serials, GSLB names.

import { nameToText } from '../dns/name.ts'
import type { Inputs } from './load-inputs.ts'

export type ReloadChanges = {
  readonly zonesAdded: readonly string[]
  readonly zonesRemoved: readonly string[]
  readonly serials: readonly { readonly zone: string; readonly from: number; readonly to: number }[]
  readonly namesAdded: readonly string[]
  readonly namesRemoved: readonly string[]
}

export function reloadChanges(before: Inputs, after: Inputs): ReloadChanges {
  const zones = (inputs: Inputs) => new Map([...inputs.zones.byKey.values()].map((z) => [nameToText(z.origin), z.serial]))
  const names = (inputs: Inputs) => new Set(inputs.gslb.names.map((n) => n.fqdn))
  const [oldZones, newZones, oldNames, newNames] = [zones(before), zones(after), names(before), names(after)]
  return {
    zonesAdded: [...newZones.keys()].filter((z) => !oldZones.has(z)),
    zonesRemoved: [...oldZones.keys()].filter((z) => !newZones.has(z)),
    serials: [...newZones].flatMap(([zone, to]) => {
      const from = oldZones.get(zone)
      return from !== undefined && from !== to ? [{ zone, from, to }] : []
    }),
    namesAdded: [...newNames].filter((n) => !oldNames.has(n)),
    namesRemoved: [...oldNames].filter((n) => !newNames.has(n)),
  }
}

/**
 * The serial changes that go backwards in RFC 1982 serial arithmetic: secondaries (and anything
 * that compares serials) keep their copy and ignore the reloaded zone.
 */
export function serialsBackwards(changes: ReloadChanges): { readonly zone: string; readonly from: number; readonly to: number }[] {
  return changes.serials.filter(({ from, to }) => {
    const forward = (to - from + 2 ** 32) % 2 ** 32
    return forward === 0 ? false : forward >= 2 ** 31
  })
}
