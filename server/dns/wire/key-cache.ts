// Lookup keys of recently asked names, by their lowercase wire bytes. Most queries ask for a few
// hot names, so decoding reuses the key string it made the first time: a hit makes no string, and
// the zone's Map lookups get a string whose hash V8 has already cached. Direct-mapped and fixed in
// size (512 KiB per thread): a flood of random names costs a byte compare per query, never memory.

import { MAX_NAME_WIRE } from '../name.ts'

/** Slots in this cache; other per-thread caches by name (resolve-name.ts) index theirs the same way. */
export const KEY_SLOTS = 2048
/** A slot is the name's length, then its bytes: the compare reads one run of memory. */
const SLOT_BYTES = 1 + MAX_NAME_WIRE
const slotBytes = new Uint8Array(KEY_SLOTS * SLOT_BYTES)
const slotKeys: string[] = new Array<string>(KEY_SLOTS).fill('')

/** FNV-1a, one byte at a time: callers fold it in while they lowercase the name. */
export const KEY_HASH_SEED = 0x811c9dc5
export function keyHashStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193)
}

/** The slot of a name whose hash is `hash`. */
export function keySlot(hash: number): number {
  return hash & (KEY_SLOTS - 1)
}

/** The key (latin1 string) of `length` lowercase wire bytes in `scratch`, whose hash is `hash`. */
export function cachedKey(scratch: Buffer, length: number, hash: number): string {
  const slot = keySlot(hash)
  const base = slot * SLOT_BYTES
  if (slotBytes[base] === length) {
    let i = 0
    while (i < length && slotBytes[base + 1 + i] === scratch[i]) i++
    if (i === length) return slotKeys[slot] as string
  }
  const key = scratch.toString('latin1', 0, length)
  slotBytes[base] = length
  for (let i = 0; i < length; i++) slotBytes[base + 1 + i] = scratch[i] as number
  slotKeys[slot] = key
  return key
}
