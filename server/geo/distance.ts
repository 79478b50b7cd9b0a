// How far a client is from a site. Great-circle distance when both have coordinates; otherwise
// a coarse stand-in from country and continent, so sites placed only by country still sort sensibly.

import type { Location } from './location.ts'

const EARTH_RADIUS_KM = 6371
/** Half the earth's circumference: farther than any real distance. */
export const UNKNOWN_DISTANCE_KM = Math.PI * EARTH_RADIUS_KM
const SAME_CONTINENT_KM = 5000

export function distanceKm(client: Location, site: Location): number {
  if (client.lat !== undefined && client.lon !== undefined && site.lat !== undefined && site.lon !== undefined) {
    return greatCircleKm(client.lat, client.lon, site.lat, site.lon)
  }
  if (client.country !== undefined && client.country === site.country) return 0
  if (client.continent !== undefined && client.continent === site.continent) return SAME_CONTINENT_KM
  return UNKNOWN_DISTANCE_KM
}

/** Haversine formula. */
export function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLon = (lon2 - lon1) * rad
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)))
}
