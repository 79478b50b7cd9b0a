// Lookup keys of recently asked names, by their lowercase wire bytes. Most queries ask for a few
// hot names, so a name's slot keeps the key string made the first time: a repeat makes none, and
// a memo miss (resolve-name.ts) gets a string whose hash V8 has already cached for its Map
// lookups. Fixed in size (1.1 MB per thread): a flood of random names costs a few compares per
// query, never memory.
//
// Four-way set-associative: a name may sit in any of the four slots of the set its hash picks.
// Direct-mapped, two names that share a slot evict each other on every turn: 1,000 names asked
// in a cycle (a query file, a busy zone) shared slots for 46% of them, and each of those missed
// every time, making its key string and resolving it again.
//
// Once the cache is full, a name replaces another only on its second sighting. A random-subdomain
// flood asks each name once: stored, those names evicted the hot ones, and their strings and memo
// entries lived long enough to be promoted to V8's old generation (+110 MB in `npm run bench`).

import { MAX_NAME_WIRE } from '../name.ts'

const WAYS = 4
const SETS = 1024
const STORED_SLOTS = SETS * WAYS
/** A first sighting in a full set gets this slot, which only ever holds the latest such name. */
export const TRANSIENT_SLOT = STORED_SLOTS
/** Slot numbers `keySlot` returns (the transient one included). */
export const KEY_SLOTS = STORED_SLOTS + 1
/**
 * A slot is the name's hash (int32); the memo fields resolve-name.ts keeps beside it (int32 memo
 * serial, int32 outcome: where this name resolved for the memo with that serial); the name's
 * length; then its bytes. A repeated name finds its key and where it resolved in one run of
 * memory, usually one cache line: kernel work between two queries evicts our data, and a name
 * asked again after a thousand others costs a fetch from far away per line it touches.
 */
const SLOT_BYTES = 4 + 4 + 4 + 1 + MAX_NAME_WIRE + 4 // padded to a multiple of 8
const WORD_STRIDE = SLOT_BYTES / 4
/** Int32 fields of a slot, then where its length byte sits; its bytes follow. */
const MEMO_SERIAL = 1
const MEMO_OUTCOME = 2
const LENGTH_AT = 12
const memory = new ArrayBuffer(KEY_SLOTS * SLOT_BYTES)
const slotBytes = new Uint8Array(memory)
const slotWords = new Int32Array(memory)
const slotKeys: string[] = new Array<string>(KEY_SLOTS).fill('')
/** Per set, the way the next miss replaces (round robin). */
const nextWay = new Uint8Array(SETS)
/**
 * Hashes of names seen once and not stored, eight per set, replaced in turn: a hash found here is
 * a second sighting. With as few entries as ways, five names asked in turn that share a full set
 * overwrote each other's before they came back, and none was ever stored.
 */
const SEEN_PER_SET = 8
const seenOnce = new Int32Array(SETS * SEEN_PER_SET)
const nextSeen = new Uint8Array(SETS)

/** FNV-1a, one byte at a time: callers fold it in while they lowercase the name. */
export const KEY_HASH_SEED = 0x811c9dc5
export function keyHashStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193)
}

/**
 * The slot holding the key of the `length` lowercase wire bytes in `scratch`, whose hash is
 * `hash`, stored there on a miss unless it is a first sighting in a full set (see `admit`).
 */
export function keySlot(scratch: Buffer, length: number, hash: number): number {
  const first = (hash & (SETS - 1)) * WAYS
  for (let slot = first; slot < first + WAYS; slot++) {
    if (slotWords[slot * WORD_STRIDE] !== hash) continue
    const base = slot * SLOT_BYTES + LENGTH_AT
    if (slotBytes[base] !== length) continue
    let i = 0
    while (i < length && slotBytes[base + 1 + i] === scratch[i]) i++
    if (i === length) return slot
  }
  return admit(scratch, length, hash, first)
}

/**
 * A miss on the set starting at `first`: an empty slot takes the name; a full set takes it in
 * place of its oldest name only on a second sighting, and a first sighting's key goes to the
 * transient slot.
 */
function admit(scratch: Buffer, length: number, hash: number, first: number): number {
  const set = first / WAYS
  let slot = first
  while (slot < first + WAYS && slotBytes[slot * SLOT_BYTES + LENGTH_AT] !== 0) slot++ // a name is never 0 octets long
  if (slot === first + WAYS) {
    const seen = set * SEEN_PER_SET
    let seenBefore = false
    for (let entry = seen; entry < seen + SEEN_PER_SET; entry++) if (seenOnce[entry] === hash) seenBefore = true
    if (!seenBefore) {
      seenOnce[seen + (nextSeen[set] as number)] = hash
      nextSeen[set] = ((nextSeen[set] as number) + 1) & (SEEN_PER_SET - 1)
      slotKeys[TRANSIENT_SLOT] = scratch.toString('latin1', 0, length)
      slotWords[TRANSIENT_SLOT * WORD_STRIDE + MEMO_SERIAL] = 0
      return TRANSIENT_SLOT
    }
    slot = first + (nextWay[set] as number)
    nextWay[set] = ((nextWay[set] as number) + 1) & (WAYS - 1)
  }
  const base = slot * SLOT_BYTES + LENGTH_AT
  slotBytes[base] = length
  for (let i = 0; i < length; i++) slotBytes[base + 1 + i] = scratch[i] as number
  slotWords[slot * WORD_STRIDE] = hash
  slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0 // what a memo knew was about the name before
  slotKeys[slot] = scratch.toString('latin1', 0, length)
  return slot
}

/** The key (latin1 string of the lowercase wire name) in a slot `keySlot` returned. */
export function slotKey(slot: number): string {
  return slotKeys[slot] as string
}

/** The outcome the memo with this serial noted for the name in `slot`, or -1. */
export function slotOutcome(slot: number, serial: number): number {
  const words = slot * WORD_STRIDE
  return slotWords[words + MEMO_SERIAL] === serial ? (slotWords[words + MEMO_OUTCOME] as number) : -1
}

/** Notes, for the memo with this serial (never 0), where the name in `slot` resolved. */
export function setSlotOutcome(slot: number, serial: number, outcome: number): void {
  const words = slot * WORD_STRIDE
  slotWords[words + MEMO_SERIAL] = serial
  slotWords[words + MEMO_OUTCOME] = outcome
}

/** Forgets every slot's outcome (before memo serials start over). */
export function forgetSlotOutcomes(): void {
  for (let slot = 0; slot < KEY_SLOTS; slot++) slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0
}
