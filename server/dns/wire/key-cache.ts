// Lookup keys of recently asked names, by their lowercase wire bytes. Most queries ask for a few
// hot names, so a name's slot keeps its key string once a memo miss (resolve-name.ts) made it: a
// repeat makes none, and gets a string whose hash V8 has already cached for its Map lookups. A
// name's parent can have a slot too, noting where the names below it resolve. Fixed in size (1.1
// MB per thread): a flood of random names costs a few compares per query, never memory.
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
 * serial; int32 outcome: where this name resolved for the memo with that serial; int32 outcome of
 * the names below it that are no node of ours, for the same memo); the name's length; then its
 * bytes. A repeated name finds its key and where it resolved in one run of memory, usually one
 * cache line: kernel work between two queries evicts our data, and a name asked again after a
 * thousand others costs a fetch from far away per line it touches.
 */
const SLOT_BYTES = 4 + 4 + 4 + 4 + 1 + MAX_NAME_WIRE // 272, a multiple of 8
const WORD_STRIDE = SLOT_BYTES / 4
/** Int32 fields of a slot, then where its length byte sits; its bytes follow. */
const MEMO_SERIAL = 1
const MEMO_OUTCOME = 2
const MEMO_BELOW = 3
const LENGTH_AT = 16
const memory = new ArrayBuffer(KEY_SLOTS * SLOT_BYTES)
// A Buffer, so a slot's key string is made straight from its bytes.
const slotBytes = Buffer.from(memory)
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

/** The hash `keySlot` takes, of a key string (whose chars are the wire bytes). */
export function keyHash(key: string): number {
  let hash = KEY_HASH_SEED
  for (let i = 0; i < key.length; i++) hash = keyHashStep(hash, key.charCodeAt(i))
  return hash
}

/**
 * The slot holding the `length` lowercase wire bytes at `start` in `bytes`, whose hash is `hash`,
 * stored there on a miss unless it is a first sighting in a full set (see `admit`).
 */
export function keySlot(bytes: Buffer, start: number, length: number, hash: number): number {
  const slot = findSlot(bytes, start, length, hash)
  return slot >= 0 ? slot : admit(bytes, start, length, hash)
}

/** The slot holding these bytes, or -1. */
function findSlot(bytes: Buffer, start: number, length: number, hash: number): number {
  const first = (hash & (SETS - 1)) * WAYS
  for (let slot = first; slot < first + WAYS; slot++) {
    if (slotWords[slot * WORD_STRIDE] !== hash) continue
    const base = slot * SLOT_BYTES + LENGTH_AT
    if (slotBytes[base] !== length) continue
    let i = 0
    while (i < length && slotBytes[base + 1 + i] === bytes[start + i]) i++
    if (i === length) return slot
  }
  return -1
}

/**
 * A miss: an empty slot of the name's set takes it; a full set takes it in place of its oldest
 * name only on a second sighting, and a first sighting goes to the transient slot.
 */
function admit(bytes: Buffer, start: number, length: number, hash: number): number {
  const set = hash & (SETS - 1)
  const first = set * WAYS
  let slot = first
  while (slot < first + WAYS && slotBytes[slot * SLOT_BYTES + LENGTH_AT] !== 0) slot++ // a name is never 0 octets long
  if (slot === first + WAYS) {
    const seen = set * SEEN_PER_SET
    let seenBefore = false
    for (let entry = seen; entry < seen + SEEN_PER_SET; entry++) if (seenOnce[entry] === hash) seenBefore = true
    if (seenBefore) {
      slot = first + (nextWay[set] as number)
      nextWay[set] = ((nextWay[set] as number) + 1) & (WAYS - 1)
    } else {
      seenOnce[seen + (nextSeen[set] as number)] = hash
      nextSeen[set] = ((nextSeen[set] as number) + 1) & (SEEN_PER_SET - 1)
      slot = TRANSIENT_SLOT
    }
  }
  // Copied forward: a parent name (slotParent) may be copied from within the slot it replaces.
  const base = slot * SLOT_BYTES + LENGTH_AT
  slotBytes[base] = length
  for (let i = 0; i < length; i++) slotBytes[base + 1 + i] = bytes[start + i] as number
  slotWords[slot * WORD_STRIDE] = hash
  slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0 // what a memo knew was about the name before
  slotKeys[slot] = '' // made when first asked for: a name resolved from its parent's slot needs none
  return slot
}

/** The key (latin1 string of the lowercase wire name) in a slot `keySlot` returned. */
export function slotKey(slot: number): string {
  const key = slotKeys[slot] as string
  if (key !== '') return key
  const base = slot * SLOT_BYTES + LENGTH_AT
  return (slotKeys[slot] = slotBytes.toString('latin1', base + 1, base + 1 + (slotBytes[base] as number)))
}

/** The hash of the name in `slot`. */
export function slotHash(slot: number): number {
  return slotWords[slot * WORD_STRIDE] as number
}

/**
 * The slot of the parent of the name in `slot` (the name less its first label), or -1 for the
 * root. Only found, or also stored as `keySlot` stores names: `slot` itself may be the one taken.
 */
export function slotParent(slot: number, store: boolean): number {
  const base = slot * SLOT_BYTES + LENGTH_AT
  const label = slotBytes[base + 1] as number
  if (label === 0) return -1
  const start = base + 2 + label
  const length = (slotBytes[base] as number) - label - 1
  let hash = KEY_HASH_SEED
  for (let i = start; i < start + length; i++) hash = keyHashStep(hash, slotBytes[i] as number)
  const parent = findSlot(slotBytes, start, length, hash)
  return parent >= 0 || !store ? parent : admit(slotBytes, start, length, hash)
}

/** The outcome the memo with this serial noted for the name in `slot`, or -1. */
export function slotOutcome(slot: number, serial: number): number {
  const words = slot * WORD_STRIDE
  return slotWords[words + MEMO_SERIAL] === serial ? (slotWords[words + MEMO_OUTCOME] as number) : -1
}

/** The outcome the memo with this serial noted for names below the one in `slot` that are no node, or -1. */
export function slotBelowOutcome(slot: number, serial: number): number {
  const words = slot * WORD_STRIDE
  return slotWords[words + MEMO_SERIAL] === serial ? (slotWords[words + MEMO_BELOW] as number) : -1
}

/** Notes, for the memo with this serial (never 0), where the name in `slot` resolved. */
export function setSlotOutcome(slot: number, serial: number, outcome: number): void {
  noteOutcome(slot * WORD_STRIDE, serial, MEMO_OUTCOME, outcome)
}

/** Notes, for the memo with this serial (never 0), where names below the one in `slot` that are no node resolve. */
export function setSlotBelowOutcome(slot: number, serial: number, outcome: number): void {
  noteOutcome(slot * WORD_STRIDE, serial, MEMO_BELOW, outcome)
}

/** Sets one of a slot's two outcomes; the other is forgotten when it was noted for another memo. */
function noteOutcome(words: number, serial: number, field: number, outcome: number): void {
  if (slotWords[words + MEMO_SERIAL] !== serial) {
    slotWords[words + MEMO_SERIAL] = serial
    slotWords[words + MEMO_OUTCOME] = -1
    slotWords[words + MEMO_BELOW] = -1
  }
  slotWords[words + field] = outcome
}

/** Forgets every slot's outcomes (before memo serials start over). */
export function forgetSlotOutcomes(): void {
  for (let slot = 0; slot < KEY_SLOTS; slot++) slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0
}

