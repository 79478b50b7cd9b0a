// Lookup keys of recently asked names, by their lowercase wire bytes. Most queries ask for a few
// hot names, so decoding reuses the key string it made the first time: a hit makes no string, and
// the zone's Map lookups get a string whose hash V8 has already cached. Fixed in size (1 MiB per
// thread): a flood of random names costs a few compares per query, never memory.
//
// Four-way set-associative: a name may sit in any of the four slots of the set its hash picks.
// Direct-mapped, two names that share a slot evict each other on every turn: 1,000 names asked
// in a cycle (a query file, a busy zone) shared slots for 46% of them, and each of those missed
// every time, making its key string and resolving it again.

import { MAX_NAME_WIRE } from '../name.ts'

const WAYS = 4
const SETS = 1024
/** Slots in this cache; other per-thread caches by name (resolve-name.ts) index theirs by its slot numbers. */
export const KEY_SLOTS = SETS * WAYS
/**
 * A slot is the name's hash (int32), its length, then its bytes: a probe that finds the name in
 * the first slot of its set reads one run of memory, usually one cache line.
 */
const SLOT_BYTES = 4 + 1 + MAX_NAME_WIRE
const HASH_STRIDE = SLOT_BYTES / 4
const memory = new ArrayBuffer(KEY_SLOTS * SLOT_BYTES)
const slotBytes = new Uint8Array(memory)
const slotHashes = new Int32Array(memory)
const slotKeys: string[] = new Array<string>(KEY_SLOTS).fill('')
/** Per set, the way the next miss replaces (round robin). */
const nextWay = new Uint8Array(SETS)

/** FNV-1a, one byte at a time: callers fold it in while they lowercase the name. */
export const KEY_HASH_SEED = 0x811c9dc5
export function keyHashStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193)
}

/**
 * The slot holding the key of the `length` lowercase wire bytes in `scratch`, whose hash is
 * `hash`; on a miss the key is made and stored there, replacing the oldest name of the set.
 */
export function keySlot(scratch: Buffer, length: number, hash: number): number {
  const first = (hash & (SETS - 1)) * WAYS
  for (let slot = first; slot < first + WAYS; slot++) {
    if (slotHashes[slot * HASH_STRIDE] !== hash) continue
    const base = slot * SLOT_BYTES + 4
    if (slotBytes[base] !== length) continue
    let i = 0
    while (i < length && slotBytes[base + 1 + i] === scratch[i]) i++
    if (i === length) return slot
  }
  const set = first / WAYS
  const slot = first + (nextWay[set] as number)
  nextWay[set] = ((nextWay[set] as number) + 1) & (WAYS - 1)
  const base = slot * SLOT_BYTES + 4
  slotBytes[base] = length
  for (let i = 0; i < length; i++) slotBytes[base + 1 + i] = scratch[i] as number
  slotHashes[slot * HASH_STRIDE] = hash
  slotKeys[slot] = scratch.toString('latin1', 0, length)
  return slot
}

/** The key (latin1 string of the lowercase wire name) in a slot `keySlot` returned. */
export function slotKey(slot: number): string {
  return slotKeys[slot] as string
}
