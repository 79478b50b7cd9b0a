// Everything a snapshot is built from, read from disk and checked: signpost.yaml, the zone folder,
// the GeoIP database, and the GSLB names checked against the zones. A config, GeoIP or GSLB problem
// fails the load; zone problems are returned beside the zones that did load, for the caller to
// decide (start serves the good zones; a reload refuses to change anything).

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { loadConfig, type ConfigLocator } from '../config/load-config.ts'
import type { Config } from '../config/schema.ts'
import { openGeoDb, readGeoSource, type GeoDb } from '../geo/geo-db.ts'
import { buildGslb, type GslbConfig } from '../gslb/build.ts'
import type { Problem } from '../common/problem.ts'
import { loadZoneFile, loadZoneFolder } from '../zone/load-zones.ts'
import { compileZone, type CompiledZone } from '../zone/compile.ts'
import type { Zone } from '../zone/model.ts'
import { zoneSet, type ZoneSet } from '../zone/zone-set.ts'
import { nameToText } from '../dns/name.ts'
import type { ZoneKey } from '../dnssec/key-file.ts'
import { loadKeyFolder } from '../dnssec/load-keys.ts'
import type { Signed } from '../dnssec/rrsig.ts'
import { dnssecSettings } from '../dnssec/settings.ts'
import { signZone, type DnssecSettings, type ZoneSigning } from '../dnssec/sign-zone.ts'
import type { SnapshotDnssec } from '../query/snapshot.ts'

export type Inputs = {
  readonly config: Config
  /** Where each config path is written, for problems found later (a reload's restart-only keys). */
  readonly locate: ConfigLocator
  readonly zones: ZoneSet
  readonly gslb: GslbConfig
  readonly geo: GeoDb | undefined
  /** Signing: the keys, the zones they sign (kept to sign again), and their signatures. */
  readonly dnssec: DnssecInputs | undefined
}

export type DnssecInputs = {
  readonly settings: DnssecSettings
  readonly keys: readonly ZoneKey[]
  /**
   * The zone file of each zone with keys, and the text of every zone file read with it: to sign
   * again (signatures due, keys' times passing) from what was loaded, without reading the disk,
   * where an edit not yet reloaded may wait. Kept as text: a zone's model is ~25× its text.
   */
  readonly files: ReadonlyMap<string, string>
  readonly texts: ReadonlyMap<string, string>
  readonly snapshot: SnapshotDnssec
  /** Every zone's signatures by content, for the next signing to reuse. */
  readonly signatures: ReadonlyMap<string, Signed>
  /** When to sign again (seconds), if ever. */
  readonly nextEventS: number | undefined
}

export type Sources = { readonly configFile: string | undefined; readonly zonesDir: string }

export type LoadResult =
  | { readonly ok: true; readonly inputs: Inputs; readonly zoneProblems: readonly Problem[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly Problem[] }

const GEO_CACHE_DEFAULT = 10_000

/** `previous`: the inputs served now, whose signatures a reload reuses for RRsets that did not change. */
export async function loadInputs(sources: Sources, previous?: Inputs, nowS = Math.floor(Date.now() / 1000)): Promise<LoadResult> {
  let config: Config = {}
  let locate: ConfigLocator = (_path) => ({ file: sources.configFile ?? '(no config)', line: 0 })
  if (sources.configFile) {
    const loaded = loadConfig(sources.configFile)
    if (!loaded.ok) return { ok: false, problems: loaded.problems }
    config = loaded.config
    locate = loaded.locate
  }
  let keys: readonly ZoneKey[] = []
  const warnings: string[] = []
  if (config.dnssec && sources.configFile) {
    const folder = loadKeyFolder(resolve(dirname(sources.configFile), config.dnssec.keys_dir))
    if (folder.problems.length > 0) return { ok: false, problems: folder.problems }
    keys = folder.keys
    warnings.push(...folder.warnings)
  }
  const signer = config.dnssec ? zoneSigner(dnssecSettings(config.dnssec), keys, previous?.dnssec?.signatures ?? new Map(), nowS, (path) => readFileSync(path, 'utf8')) : undefined
  const folder = loadZoneFolder(sources.zonesDir, signer?.compile, signer?.read)
  if (!folder.ok) return { ok: false, problems: folder.problems }
  const zones = zoneSet(folder.loads.flatMap((load) => (load.ok ? [load.zone] : [])))
  const zoneProblems = folder.loads.flatMap((load) => (load.ok ? [] : load.problems))
  // A key for a zone whose file failed to load is not reported: the zone's own problems are.
  const unserved = zoneProblems.length > 0 ? [] : keys.filter((k) => !zones.byKey.has(k.zoneKey))
  if (unserved.length > 0) return { ok: false, problems: unserved.map((k) => ({ code: 'key' as const, file: k.file, line: 0, message: `key ${k.tag} is for zone ${nameToText(k.zone)}, which no zone file serves` })) }

  let geo: GeoDb | undefined
  if (config.geoip && sources.configFile) {
    const path = resolve(dirname(sources.configFile), config.geoip.database)
    try {
      geo = openGeoDb(await readGeoSource(path, config.geoip.cache ?? GEO_CACHE_DEFAULT))
    } catch (error) {
      return { ok: false, problems: [...zoneProblems, { code: 'config', ...locate(['geoip', 'database']), message: `geoip.database: cannot open ${path}: ${(error as Error).message}` }] }
    }
  }
  // A GSLB name in a zone that failed is left out (its zone's problems say why), not blamed on the config.
  const gslb = buildGslb(config, zones, locate, folder.loads.flatMap((load) => (!load.ok && load.origin ? [load.origin] : [])))
  if (!gslb.ok) return { ok: false, problems: [...zoneProblems, ...gslb.problems] }
  return { ok: true, inputs: { config, locate, zones, gslb: gslb.gslb, geo, dnssec: signer?.result() }, zoneProblems, warnings }
}

/** The inputs with every zone that has keys signed again at `nowS` (signatures due, keys' times passed); the rest as they are. */
export function resignInputs(inputs: Inputs, nowS: number): Inputs {
  const dnssec = inputs.dnssec
  if (!dnssec) return inputs
  const signer = zoneSigner(dnssec.settings, dnssec.keys, dnssec.signatures, nowS, (path) => {
    const text = dnssec.texts.get(path)
    if (text === undefined) throw new Error(`${path} was not read with its zone`)
    return text
  })
  const zones = zoneSet([...inputs.zones.byKey.values()].map((zone) => {
    const file = dnssec.files.get(zone.key)
    if (!file) return zone
    const load = loadZoneFile(file, signer.compile, signer.read)
    // The same text that loaded before: it loads again.
    if (!load.ok) throw new Error(`${file} no longer loads: ${load.problems[0]?.message}`)
    return load.zone
  }))
  const gslb = buildGslb(inputs.config, zones, inputs.locate)
  // The zones are the ones that passed before, so their GSLB names still do.
  if (!gslb.ok) throw new Error(`re-signing broke the GSLB names: ${gslb.problems[0]?.message}`)
  return { ...inputs, zones, gslb: gslb.gslb, dnssec: signer.result() }
}

/**
 * A zone compiler that signs the zones that have keys, and what it signed. Zone files are read
 * through its `read` (from `readText`): the texts read since the last compile are the zone's own
 * file and $INCLUDEs (and those of a file that failed before it), kept only for a zone it signs.
 */
function zoneSigner(settings: DnssecSettings, keys: readonly ZoneKey[], previous: ReadonlyMap<string, Signed>, nowS: number, readText: (path: string) => string): { read: (path: string) => string; compile: (model: Zone) => CompiledZone; result: () => DnssecInputs } {
  const files = new Map<string, string>()
  const texts = new Map<string, string>()
  const signing = new Map<string, ZoneSigning>()
  const signatures = new Map<string, Signed>()
  let pending = new Map<string, string>()
  let nextEventS: number | undefined
  const read = (path: string): string => {
    const text = readText(path)
    pending.set(path, text)
    return text
  }
  const compile = (model: Zone): CompiledZone => {
    const own = pending
    pending = new Map()
    const zoneKeys = keys.filter((k) => k.zoneKey === model.key)
    if (zoneKeys.length === 0 || files.has(model.key)) return compileZone(model)
    files.set(model.key, model.file)
    for (const [path, text] of own) texts.set(path, text)
    const signed = signZone(model, zoneKeys, settings, nowS, previous)
    if (signed.signing) signing.set(model.key, signed.signing)
    for (const [key, value] of signed.signatures) signatures.set(key, value)
    if (signed.nextEventS !== undefined) nextEventS = Math.min(nextEventS ?? Infinity, signed.nextEventS)
    return signed.zone
  }
  return { read, compile, result: () => ({ settings, keys, files, texts, snapshot: Object.freeze({ zones: signing, cacheSize: settings.cacheSize }), signatures, nextEventS }) }
}
