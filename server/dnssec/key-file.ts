// BIND's key files (`K<zone>.+<alg>+<tag>.key` and `.private`, as dnssec-keygen writes them and
// ldns-keygen nearly does): read into a ZoneKey, and written for `signpost keys new`. Timing
// metadata (Publish, Activate, Inactive, Delete) is read from the .private file, else from the
// .key file's comments. Private key bytes never leave this module except inside a KeyObject.

import type { KeyObject } from 'node:crypto'
import type { Problem } from '../common/problem.ts'
import { nameKey, nameToText, parseName } from '../dns/name.ts'
import { ALGORITHMS, importPrivateKey, type AlgorithmNumber } from './algorithm.ts'
import { dnskeyRdata, keyTag } from './records.ts'

/** Seconds since the epoch; undefined: not set (published / active from the start, never retired). */
export type KeyTiming = {
  readonly publish: number | undefined
  readonly activate: number | undefined
  readonly inactive: number | undefined
  readonly delete: number | undefined
}

export type ZoneKey = {
  /** The zone (the DNSKEY's owner), in wire form, and its lookup key. */
  readonly zone: Uint8Array
  readonly zoneKey: string
  /** The .key file it was read from. */
  readonly file: string
  readonly flags: number
  readonly algorithm: AlgorithmNumber
  readonly rdata: Uint8Array
  readonly tag: number
  readonly timing: KeyTiming
  readonly privateKey: KeyObject
}

export type KeyFileResult = { readonly ok: true; readonly key: ZoneKey } | { readonly ok: false; readonly problems: readonly Problem[] }

const TIMING_FIELDS = ['Publish', 'Activate', 'Inactive', 'Delete'] as const

/** `YYYYMMDDHHMMSS` (UTC) → seconds; undefined when it is not one. */
export function parseKeyTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text)
  if (!m) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return Number.isNaN(ms) ? undefined : ms / 1000
}

export function formatKeyTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** Reads a key from its two files' text. Problems name the file and line; none quotes private data. */
export function parseKeyFiles(keyFile: string, keyText: string, privateFile: string, privateText: string): KeyFileResult {
  const problems: Problem[] = []
  const problem = (file: string, line: number, message: string): KeyFileResult => {
    problems.push({ code: 'key', file, line, message })
    return { ok: false, problems }
  }
  const keyLines = keyText.split('\n')
  const recordAt = keyLines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith(';'))
  if (recordAt < 0) return problem(keyFile, 1, 'no DNSKEY record')
  // ldns-keygen ends the record with a `;{id = …}` comment.
  const fields = ((keyLines[recordAt] as string).split(';')[0] as string).trim().split(/\s+/)
  const dnskeyAt = fields.findIndex((f) => f.toUpperCase() === 'DNSKEY')
  if (dnskeyAt < 1 || fields.length < dnskeyAt + 5) return problem(keyFile, recordAt + 1, 'expected "<zone> [ttl] [IN] DNSKEY <flags> 3 <algorithm> <public key>"')
  const owner = parseName(fields[0] as string, undefined)
  if (!owner.ok) return problem(keyFile, recordAt + 1, `owner: ${owner.message}`)
  const [flagsText, protocol, algorithmText] = fields.slice(dnskeyAt + 1, dnskeyAt + 4) as [string, string, string]
  const flags = Number(flagsText)
  const algorithm = ALGORITHMS.get(Number(algorithmText))
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff || protocol !== '3') return problem(keyFile, recordAt + 1, 'flags must be 0-65535 and protocol 3')
  if ((flags & 0x0100) === 0) return problem(keyFile, recordAt + 1, 'not a zone key (flags bit 7 is clear)')
  if (!algorithm) return problem(keyFile, recordAt + 1, `algorithm ${algorithmText} is not supported (13 ECDSAP256SHA256 and 15 ED25519 are)`)
  const publicKey = Buffer.from(fields.slice(dnskeyAt + 4).join(''), 'base64')
  if (publicKey.length !== algorithm.publicKeyLength) return problem(keyFile, recordAt + 1, `the public key is ${publicKey.length} bytes; algorithm ${algorithm.number} keys are ${algorithm.publicKeyLength}`)

  const privateFields = new Map<string, { value: string; line: number }>()
  privateText.split('\n').forEach((line, index) => {
    const m = /^([A-Za-z-]+):\s*(.*?)\s*$/.exec(line)
    if (m) privateFields.set(m[1] as string, { value: m[2] as string, line: index + 1 })
  })
  const format = privateFields.get('Private-key-format')
  if (!format || !/^v1\.[2-3]$/.test(format.value)) return problem(privateFile, format?.line ?? 1, 'expected "Private-key-format: v1.2" or "v1.3"')
  const privateAlgorithm = privateFields.get('Algorithm')
  if (!privateAlgorithm || Number(privateAlgorithm.value.split(/\s/)[0]) !== algorithm.number) return problem(privateFile, privateAlgorithm?.line ?? 1, `the Algorithm is not ${algorithm.number}, as in ${keyFile}`)
  const privateField = privateFields.get('PrivateKey')
  // An ECDSA scalar may be written without its leading zero bytes (OpenSSL's BN_bn2bin, which BIND uses).
  const written = privateField ? Buffer.from(privateField.value, 'base64') : undefined
  const short = written !== undefined && algorithm.number === 13 && written.length >= 16 && written.length < 32
  const privateBytes = short ? Buffer.concat([Buffer.alloc(32 - written.length), written]) : written
  if (short) written.fill(0)
  if (!privateField || !privateBytes || privateBytes.length !== algorithm.privateKeyLength) return problem(privateFile, privateField?.line ?? 1, `expected a PrivateKey of ${algorithm.privateKeyLength} bytes (base64)`)
  let privateKey: KeyObject
  try {
    privateKey = importPrivateKey(algorithm.number, privateBytes, publicKey)
  } catch {
    // The error text of a failed import is not shown: it could carry key material.
    return problem(privateFile, privateField.line, `the PrivateKey does not belong to the DNSKEY in ${keyFile}`)
  } finally {
    privateBytes.fill(0)
  }

  const commentTimes = new Map<string, { value: string; line: number }>()
  keyLines.forEach((line, index) => {
    const m = /^;\s*([A-Za-z]+):\s*(\d{14})/.exec(line)
    if (m) commentTimes.set(m[1] as string, { value: m[2] as string, line: index + 1 })
  })
  const timing: Record<string, number | undefined> = {}
  for (const field of TIMING_FIELDS) {
    const fromPrivate = privateFields.get(field)
    const found = fromPrivate ?? commentTimes.get(field)
    if (!found) continue
    const seconds = parseKeyTime(found.value)
    if (seconds === undefined) return problem(fromPrivate ? privateFile : keyFile, found.line, `${field}: '${found.value}' is not a YYYYMMDDHHMMSS time`)
    timing[field.toLowerCase()] = seconds
  }
  const rdata = dnskeyRdata(flags, algorithm.number, publicKey)
  return {
    ok: true,
    key: Object.freeze({
      zone: owner.wire, zoneKey: nameKey(owner.wire), file: keyFile, flags, algorithm: algorithm.number, rdata, tag: keyTag(rdata), privateKey,
      timing: Object.freeze({ publish: timing.publish, activate: timing.activate, inactive: timing.inactive, delete: timing.delete }),
    }),
  }
}

/** BIND's base name for a key: `K<zone>.+<alg>+<tag>` (the zone with its final dot). */
export function keyBaseName(zone: Uint8Array, algorithm: number, tag: number): string {
  return `K${nameToText(zone).toLowerCase()}+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`
}

export type NewKeyFiles = { readonly baseName: string; readonly keyText: string; readonly privateText: string; readonly tag: number }

/** The two files of a new key, in BIND's v1.3 format (what dnssec-settime and dnssec-dsfromkey read). */
export function formatKeyFiles(zone: Uint8Array, flags: number, algorithm: AlgorithmNumber, publicBytes: Uint8Array, privateBytes: Uint8Array, createdS: number, timing: KeyTiming): NewKeyFiles {
  const rdata = dnskeyRdata(flags, algorithm, publicBytes)
  const tag = keyTag(rdata)
  const mnemonic = ALGORITHMS.get(algorithm)?.mnemonic as string
  const times: [string, number | undefined][] = [['Created', createdS], ['Publish', timing.publish], ['Activate', timing.activate], ['Inactive', timing.inactive], ['Delete', timing.delete]]
  const set = times.filter((t): t is [string, number] => t[1] !== undefined)
  const zoneText = nameToText(zone).toLowerCase()
  const keyText = [
    `; This is a ${flags & 1 ? 'key-signing' : 'zone-signing'} key, keyid ${tag}, for ${zoneText}`,
    ...set.map(([field, s]) => `; ${field}: ${formatKeyTime(s)} (${new Date(s * 1000).toUTCString()})`),
    `${zoneText} IN DNSKEY ${flags} 3 ${algorithm} ${Buffer.from(publicBytes).toString('base64')}`,
    '',
  ].join('\n')
  const privateText = [
    'Private-key-format: v1.3',
    `Algorithm: ${algorithm} (${mnemonic})`,
    `PrivateKey: ${Buffer.from(privateBytes).toString('base64')}`,
    ...set.map(([field, s]) => `${field}: ${formatKeyTime(s)}`),
    '',
  ].join('\n')
  return { baseName: keyBaseName(zone, algorithm, tag), keyText, privateText, tag }
}
