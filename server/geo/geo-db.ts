// The GeoIP database (MaxMind .mmdb, City or Country) opened once per load; `locate` turns an
// address into a location and the prefix length of the database network it fell in.

import maxmind, { type CityResponse, type Reader } from 'maxmind'
import type { Location } from '../gslb/types.ts'

export type Located = { readonly location: Location | undefined; readonly prefixLength: number }

export type GeoDb = {
  readonly path: string
  locate(ip: string): Located
}

/** `cacheSize` is maxmind's own LRU of decoded records; 0 turns it off. */
export async function openGeoDb(path: string, cacheSize: number): Promise<GeoDb> {
  const reader: Reader<CityResponse> = await maxmind.open<CityResponse>(path, cacheSize > 0 ? { cache: { max: cacheSize } } : {})
  return {
    path,
    locate(ip) {
      const [record, prefixLength] = reader.getWithPrefixLength(ip)
      if (!record) return { location: undefined, prefixLength }
      const location: Location = {
        lat: record.location?.latitude,
        lon: record.location?.longitude,
        country: record.country?.iso_code ?? record.registered_country?.iso_code,
        continent: record.continent?.code,
      }
      const known = location.lat !== undefined || location.country !== undefined || location.continent !== undefined
      return { location: known ? location : undefined, prefixLength }
    },
  }
}
