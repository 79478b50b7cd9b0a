// Who the clients are, as the GeoIP database can tell without traffic: every IPv4 network it holds,
// weighted by its number of addresses and grouped by location. What-if answers (`POST
// /v1/simulate`) are shared out over it. IPv4 only: IPv6 space is so much larger that counting
// its addresses would say nothing of where clients are, and both families' clients are the same
// people.

import { Reader, type CityResponse } from 'maxmind'
import { locationOf, type GeoSource } from './geo-db.ts'
import type { Location } from './location.ts'

/** Addresses at one location; `location` is the same object for the whole group. */
export type PopulationGroup = { readonly location: Location; readonly addresses: number }

export type Population = {
  readonly groups: readonly PopulationGroup[]
  /** IPv4 addresses in networks with a location, and the networks walked to find them. */
  readonly addresses: number
  readonly networks: number
}

/** Networks looked up between two turns of the event loop, so a large database does not stall the control plane. */
const LOOKUPS_PER_TURN = 20_000

/**
 * Walks the IPv4 space network by network: each lookup says how long the prefix it fell in is
 * (a record's network, or an empty stretch of the tree), and the walk jumps past it.
 */
export async function ipv4Population(source: GeoSource): Promise<Population> {
  // Networks of one city share one record: decoded once (by its offset in the file), not once per network.
  const reader = new Reader<CityResponse>(Buffer.from(source.bytes), { cache: new Map() })
  const groups = new Map<string, { location: Location; addresses: number }>()
  let address = 0
  let networks = 0
  let located = 0
  while (address < 2 ** 32) {
    for (let n = 0; n < LOOKUPS_PER_TURN && address < 2 ** 32; n++) {
      const [record, prefixLength] = reader.getWithPrefixLength(`${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`)
      const size = 2 ** (32 - prefixLength)
      const location = record ? locationOf(record) : undefined
      if (location) {
        const key = `${location.lat} ${location.lon} ${location.country} ${location.continent}`
        const group = groups.get(key)
        if (group) group.addresses += size
        else groups.set(key, { location, addresses: size })
        located += size
        networks++
      }
      address += size
    }
    if (address < 2 ** 32) await new Promise((resolve) => setImmediate(resolve))
  }
  return { groups: [...groups.values()], addresses: located, networks }
}
