// Where something is: a client as the GeoIP database places it, or a site as the config does.
// Coordinates and/or country and continent codes; any of them may be unknown.

export type Location = {
  readonly lat: number | undefined
  readonly lon: number | undefined
  readonly country: string | undefined
  readonly continent: string | undefined
}
