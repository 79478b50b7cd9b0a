// `signpost keys new ZONE` and `signpost ds ZONE`: making a key in BIND's format, and printing the
// DS records to give the registrar. Keys go in (and are read from) --dir, else the config's
// dnssec.keys_dir (the config found as `serve` finds it), else the working directory.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { nameKey, nameToText, parseName } from './dns/name.ts'
import { generateKey, type AlgorithmNumber } from './dnssec/algorithm.ts'
import { formatKeyFiles, parseKeyTime, type KeyTiming } from './dnssec/key-file.ts'
import { isPublished, keyState } from './dnssec/key-timing.ts'
import { loadKeyFolder } from './dnssec/load-keys.ts'
import { DNSKEY_FLAGS_SEP, DNSKEY_FLAGS_ZONE, dsRdata } from './dnssec/records.ts'
import { formatProblem } from './common/problem.ts'

export const KEYS_USAGE = `  signpost keys new ZONE [--dir DIR] [--algorithm ecdsap256|ed25519] [--publish T] [--activate T] [--inactive T] [--delete T]
  signpost ds ZONE [--dir DIR]
    (T: now, now+N or +N with s/m/h/d, or YYYYMMDDHHMMSS in UTC; a new key is published and active now unless told)`

const ALGORITHM_NAMES: Record<string, AlgorithmNumber> = { ecdsap256: 13, ecdsap256sha256: 13, '13': 13, ed25519: 15, '15': 15 }
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** A time flag: seconds, or undefined when it is none of the forms KEYS_USAGE names. */
export function parseTimeFlag(text: string, nowS: number): number | undefined {
  if (text === 'now') return nowS
  const relative = /^(?:now)?\+(\d+)([smhd])$/.exec(text)
  if (relative) return nowS + Number(relative[1]) * (UNITS[relative[2] as string] as number)
  return parseKeyTime(text)
}

export type KeysCommand = { readonly out: Writable; readonly err: Writable; readonly defaultDir: string; readonly nowS: number }

/** Runs `keys …` or `ds …` (`command` is the first word); returns the exit code. */
export function runKeysCommand(command: 'keys' | 'ds', args: readonly string[], io: KeysCommand): number {
  const usage = (message: string): number => {
    io.err.write(`${message}\nusage:\n${KEYS_USAGE}\n`)
    return 2
  }
  let parsed
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { dir: { type: 'string' }, algorithm: { type: 'string' }, publish: { type: 'string' }, activate: { type: 'string' }, inactive: { type: 'string' }, delete: { type: 'string' } } })
  } catch (error) {
    return usage((error as Error).message)
  }
  const { values, positionals } = parsed
  const words = command === 'keys' ? positionals : ['ds', ...positionals]
  if (words.length !== 2 || (words[0] !== 'new' && words[0] !== 'ds')) return usage(command === 'keys' ? 'expected: keys new ZONE' : 'expected: ds ZONE')
  const zoneText = words[1] as string
  const zone = parseName(zoneText.endsWith('.') ? zoneText : `${zoneText}.`, undefined)
  if (!zone.ok) return usage(`zone: ${zone.message}`)
  const dir = values.dir ?? io.defaultDir
  if (words[0] === 'ds') return printDs(zone.wire, dir, io)

  const algorithm = ALGORITHM_NAMES[(values.algorithm ?? 'ecdsap256').toLowerCase()]
  if (!algorithm) return usage(`--algorithm takes ecdsap256 (13) or ed25519 (15), not '${values.algorithm}'`)
  const times: Record<string, number | undefined> = {}
  for (const field of ['publish', 'activate', 'inactive', 'delete'] as const) {
    const text = values[field]
    if (text === undefined) continue
    const seconds = parseTimeFlag(text, io.nowS)
    if (seconds === undefined) return usage(`--${field} '${text}' is not a time`)
    times[field] = seconds
  }
  const timing: KeyTiming = { publish: times.publish ?? io.nowS, activate: times.activate ?? times.publish ?? io.nowS, inactive: times.inactive, delete: times.delete }
  const { privateBytes, publicBytes } = generateKey(algorithm)
  const files = formatKeyFiles(zone.wire, DNSKEY_FLAGS_ZONE | DNSKEY_FLAGS_SEP, algorithm, publicBytes, privateBytes, io.nowS, timing)
  privateBytes.fill(0)
  try {
    writeFileSync(join(dir, `${files.baseName}.private`), files.privateText, { mode: 0o600, flag: 'wx' })
    writeFileSync(join(dir, `${files.baseName}.key`), files.keyText, { mode: 0o644, flag: 'wx' })
  } catch (error) {
    io.err.write(`cannot write the key files in ${dir}: ${(error as Error).message}\n`)
    return 1
  }
  io.out.write(`${join(dir, files.baseName)}\n`)
  return 0
}

/** DS (SHA-256) of each SEP key of the zone that is published or will be, the form a registrar takes. */
function printDs(zone: Uint8Array, dir: string, io: KeysCommand): number {
  const folder = loadKeyFolder(dir)
  for (const problem of folder.problems) io.err.write(`${formatProblem(problem)}\n`)
  const wanted = nameKey(zone)
  const keys = folder.keys.filter((k) => k.zoneKey === wanted && (k.flags & DNSKEY_FLAGS_SEP) !== 0)
  const current = keys.filter((k) => isPublished(k, io.nowS) || keyState(k, io.nowS) === 'not yet published')
  if (current.length === 0) {
    io.err.write(`no key for ${nameToText(zone)} in ${dir}\n`)
    return 1
  }
  for (const key of current) {
    const ds = dsRdata(key.zone, key.rdata)
    io.out.write(`${nameToText(key.zone).toLowerCase()} IN DS ${key.tag} ${key.algorithm} 2 ${Buffer.from(ds.subarray(4)).toString('hex').toUpperCase()} ; ${keyState(key, io.nowS)}\n`)
  }
  return folder.problems.length > 0 ? 1 : 0
}
