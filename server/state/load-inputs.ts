// Everything a snapshot is built from, read from disk and checked: signpost.yaml, the zone folder,
// the GeoIP database, and the GSLB names checked against the zones. A config, GeoIP or GSLB problem
// fails the load; zone problems are returned beside the zones that did load, for the caller to
// decide (start serves the good zones; a reload refuses to change anything).

import { dirname, resolve } from 'node:path'
import { loadConfig, type ConfigLocator } from '../config/load-config.ts'
import type { Config } from '../config/schema.ts'
import { openGeoDb, readGeoSource, type GeoDb } from '../geo/geo-db.ts'
import { buildGslb, type GslbConfig } from '../gslb/build.ts'
import type { Problem } from '../common/problem.ts'
import { loadZoneFolder } from '../zone/load-zones.ts'
import { zoneSet, type ZoneSet } from '../zone/zone-set.ts'

export type Inputs = {
  readonly config: Config
  /** Where each config path is written, for problems found later (a reload's restart-only keys). */
  readonly locate: ConfigLocator
  readonly zones: ZoneSet
  readonly gslb: GslbConfig
  readonly geo: GeoDb | undefined
}

export type Sources = { readonly configFile: string | undefined; readonly zonesDir: string }

export type LoadResult =
  | { readonly ok: true; readonly inputs: Inputs; readonly zoneProblems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] }

const GEO_CACHE_DEFAULT = 10_000

export async function loadInputs(sources: Sources): Promise<LoadResult> {
  let config: Config = {}
  let locate: ConfigLocator = (_path) => ({ file: sources.configFile ?? '(no config)', line: 0 })
  if (sources.configFile) {
    const loaded = loadConfig(sources.configFile)
    if (!loaded.ok) return { ok: false, problems: loaded.problems }
    config = loaded.config
    locate = loaded.locate
  }
  const folder = loadZoneFolder(sources.zonesDir)
  if (!folder.ok) return { ok: false, problems: folder.problems }
  const zones = zoneSet(folder.loads.flatMap((load) => (load.ok ? [load.zone] : [])))
  const zoneProblems = folder.loads.flatMap((load) => (load.ok ? [] : load.problems))

  let geo: GeoDb | undefined
  if (config.geoip && sources.configFile) {
    const path = resolve(dirname(sources.configFile), config.geoip.database)
    try {
      geo = openGeoDb(await readGeoSource(path, config.geoip.cache ?? GEO_CACHE_DEFAULT))
    } catch (error) {
      return { ok: false, problems: [...zoneProblems, { code: 'config', ...locate(['geoip', 'database']), message: `geoip.database: cannot open ${path}: ${(error as Error).message}` }] }
    }
  }
  const gslb = buildGslb(config, zones, locate)
  // A broken zone file often surfaces here as a GSLB name "in no zone": report its own lines too.
  if (!gslb.ok) return { ok: false, problems: [...zoneProblems, ...gslb.problems] }
  return { ok: true, inputs: { config, locate, zones, gslb: gslb.gslb, geo }, zoneProblems }
}
