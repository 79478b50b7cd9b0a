// What the abuse defence runs with, made from the config at start and on each reload: the rate
// limiter's settings and the cookie secrets. Structured-cloneable (it travels to the DNS workers
// inside the snapshot's inputs).

import { parseNetwork, type Network } from '../common/address.ts'
import type { Config } from '../config/schema.ts'
import {
  DEFAULT_RRL_IPV4_PREFIX, DEFAULT_RRL_IPV6_PREFIX, DEFAULT_RRL_RESPONSES_PER_SECOND, DEFAULT_RRL_SLIP, DEFAULT_RRL_TABLE_SIZE, DEFAULT_RRL_WINDOW_S,
} from '../config/defaults.ts'

export type RrlSettings = {
  readonly responsesPerSecond: number
  readonly slip: number
  readonly windowS: number
  readonly ipv4Prefix: number
  readonly ipv6Prefix: number
  readonly exempt: readonly Network[]
  readonly tableSize: number
}

/** SipHash keys (16 bytes): the one cookies are made with, and the one before it, still accepted until `previousUntil` (Unix seconds). */
export type CookieSecrets = {
  readonly current: Uint8Array
  readonly previous: Uint8Array | undefined
  readonly previousUntil: number
}

export type DefenceSettings = { readonly rrl: RrlSettings | undefined; readonly cookies: CookieSecrets | undefined }

export const NO_DEFENCE: DefenceSettings = Object.freeze({ rrl: undefined, cookies: undefined })

/** RFC 9018 §4.3: a server cookie is good for an hour, so the secret before a change is too. */
export const PREVIOUS_SECRET_S = 3600

/**
 * The settings for `config`. `generated` is the secret made at start, used when the config names
 * none; a secret that changed from `before` keeps the old one accepted for PREVIOUS_SECRET_S.
 */
export function defenceSettings(config: Config, before: DefenceSettings | undefined, nowS: number, generated: Uint8Array): DefenceSettings {
  const rrl = config.rrl ?? {}
  const rate = rrl.responses_per_second ?? DEFAULT_RRL_RESPONSES_PER_SECOND
  return Object.freeze({
    rrl: rate === 0 ? undefined : Object.freeze({
      responsesPerSecond: rate,
      slip: rrl.slip ?? DEFAULT_RRL_SLIP,
      windowS: rrl.window_s ?? DEFAULT_RRL_WINDOW_S,
      ipv4Prefix: rrl.ipv4_prefix ?? DEFAULT_RRL_IPV4_PREFIX,
      ipv6Prefix: rrl.ipv6_prefix ?? DEFAULT_RRL_IPV6_PREFIX,
      // The schema checked each one.
      exempt: (rrl.exempt ?? []).map((text) => parseNetwork(text) as Network),
      tableSize: rrl.table_size ?? DEFAULT_RRL_TABLE_SIZE,
    }),
    cookies: config.cookies?.enabled === false ? undefined : cookieSecrets(config.cookies?.secret, before?.cookies, nowS, generated),
  })
}

function cookieSecrets(secretHex: string | undefined, before: CookieSecrets | undefined, nowS: number, generated: Uint8Array): CookieSecrets {
  const current = secretHex ? Uint8Array.from(Buffer.from(secretHex, 'hex')) : generated
  if (before && Buffer.compare(before.current, current) !== 0) return Object.freeze({ current, previous: before.current, previousUntil: nowS + PREVIOUS_SECRET_S })
  const keep = before?.previous !== undefined && nowS < before.previousUntil
  return Object.freeze({ current, previous: keep ? before.previous : undefined, previousUntil: keep ? before.previousUntil : 0 })
}

/** Whether `address` (its first `length` bytes) is in one of `networks`. */
export function inNetworks(networks: readonly Network[], address: Uint8Array, length: number): boolean {
  for (const network of networks) if (network.bytes.length === length && samePrefix(network.bytes, address, network.bits)) return true
  return false
}

function samePrefix(network: Uint8Array, address: Uint8Array, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) if (prefixByte(network[i] as number, i, bits) !== prefixByte(address[i] as number, i, bits)) return false
  return true
}

/** Byte `index` of an address with the bits past a `bits`-long prefix cleared. */
export function prefixByte(byte: number, index: number, bits: number): number {
  const kept = bits - index * 8
  return kept >= 8 ? byte : kept <= 0 ? 0 : byte & (0xff << (8 - kept)) & 0xff
}
