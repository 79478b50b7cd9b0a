// Loads every `*.zone` file of a folder. Each file is one zone; its origin is its `$ORIGIN`, else
// the file name without `.zone`. One bad zone is rejected with its problems; the others load.

import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { compileZone, type CompiledZone } from './compile.ts'
import { nameToText, parseName } from '../dns/name.ts'
import type { Problem } from '../common/problem.ts'
import { parseZoneFile, type ReadText } from './parse-zone.ts'
import { buildZone } from './build-zone.ts'
import type { Zone } from './model.ts'

export type ZoneLoad =
  | { readonly ok: true; readonly file: string; readonly zone: CompiledZone }
  /** `origin`: the zone the file was for, when that much is known (its GSLB names are then not blamed on the config). */
  | { readonly ok: false; readonly file: string; readonly problems: readonly Problem[]; readonly origin?: Uint8Array }

export type FolderResult = { readonly ok: true; readonly loads: readonly ZoneLoad[] } | { readonly ok: false; readonly problems: readonly Problem[] }

const fromDisk: ReadText = (path) => readFileSync(path, 'utf8')

/** Turns a checked zone into what is served: compileZone, or a signer that compiles and signs. */
export type ZoneCompiler = (zone: Zone) => CompiledZone

/** `readText`: how the file and its $INCLUDEs are read (from disk, or from texts read before). */
export function loadZoneFile(file: string, compile: ZoneCompiler = compileZone, readText: ReadText = fromDisk): ZoneLoad {
  const fallback = parseName(basename(file).replace(/\.zone$/, '') + '.', undefined)
  if (!fallback.ok) return { ok: false, file, problems: [{ code: 'owner', file, line: 0, message: `file name gives no zone name: ${fallback.message}` }] }
  const parsed = parseZoneFile(file, fallback.wire, readText)
  if (!parsed.ok) {
    // Every problem at once: the lines that did not parse, then what the zone's checks find in the rest.
    const checked = parsed.partial ? buildZone(parsed.partial, file) : undefined
    return { ok: false, file, problems: [...parsed.problems, ...(checked && !checked.ok ? checked.problems : [])], origin: parsed.partial?.origin ?? fallback.wire }
  }
  const built = buildZone(parsed.zone, file)
  if (!built.ok) return { ok: false, file, problems: built.problems, origin: parsed.zone.origin }
  return { ok: true, file, zone: compile(built.zone) }
}

export function loadZoneFolder(dir: string, compile: ZoneCompiler = compileZone, readText: ReadText = fromDisk): FolderResult {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.zone')).sort().map((f) => join(dir, f))
  } catch (error) {
    return { ok: false, problems: [{ code: 'io', file: dir, line: 0, message: `cannot read zone folder: ${(error as Error).message}` }] }
  }
  const seen = new Map<string, string>()
  const loads = files.map((file): ZoneLoad => {
    const load = loadZoneFile(file, compile, readText)
    if (!load.ok) return load
    const other = seen.get(load.zone.key)
    if (other) return { ok: false, file, problems: [{ code: 'duplicate-zone', file, line: 0, message: `zone ${nameToText(load.zone.origin)} is already loaded from ${other}` }] }
    seen.set(load.zone.key, file)
    return load
  })
  return { ok: true, loads }
}
