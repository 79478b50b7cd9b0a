// Signatures made at query time (GSLB answers, denials, wildcard answers), kept per thread by the
// content they sign: the signing keys and the RRset's canonical bytes. A name with three VIPs and
// max_answers 1 costs three signatures, and a health change back to an answer seen before costs
// none. Bounded: past `capacity` entries the oldest goes (a flood of new names churns only itself).

import type { Signed } from './rrsig.ts'

export type SignatureCache = {
  /** The signature for `key`, unless it is due to be made again at `nowS`. */
  get(key: string, nowS: number): Signed | undefined
  set(key: string, signed: Signed): void
  readonly size: number
  readonly capacity: number
  /** Signatures stored since the last call (each one made at query time). */
  takeMade(): number
}

export function createSignatureCache(capacity: number): SignatureCache {
  const entries = new Map<string, Signed>()
  let made = 0
  return {
    get(key, nowS) {
      const signed = entries.get(key)
      return signed && signed.refreshAt > nowS ? signed : undefined
    },
    set(key, signed) {
      entries.delete(key)
      if (entries.size >= capacity) entries.delete(entries.keys().next().value as string)
      entries.set(key, signed)
      made++
    },
    takeMade() {
      const taken = made
      made = 0
      return taken
    },
    get size() {
      return entries.size
    },
    capacity,
  }
}
