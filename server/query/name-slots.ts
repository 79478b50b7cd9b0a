// Name slots: this thread's cache of recently asked names, and the per-snapshot memos of where
// those names resolved, noted in the names' slots. One module owns all of it: the slot layout, the
// one hash of names (every caller, the node filter included, hashes through `nameHash`), the
// admission rule and the memo serials.
//
// A slot holds a name's lowercase wire bytes and their hash, and keeps its key string once a memo
// miss made it: a repeat makes none, and gets a string whose hash V8 has already cached for its
// Map lookups. A name's parent can have a slot too, noting where the names below it resolve. Fixed
// in size (1.1 MB per thread): a flood of random names costs a few compares per query, never memory.
//
// Four-way set-associative: a name may sit in any of the four slots of the set its hash picks.
// Direct-mapped, two names that share a slot evict each other on every turn: 1,000 names asked
// in a cycle (a query file, a busy zone) shared slots for 46% of them, and each of those missed
// every time, making its key string and resolving it again.
//
// Once the cache is full, a name replaces another only on its second sighting. A random-subdomain
// flood asks each name once: stored, those names evicted the hot ones, and their strings and memo
// entries lived long enough to be promoted to V8's old generation (+110 MB in `npm run bench`).
//
// A memo belongs to one snapshot (query/snapshot.ts keeps it in the snapshot's cache part) and
// has a serial; a slot notes (serial, outcome index), so a repeated name reads where it resolved
// in the slot it was just found in, and a slot noted for an older memo simply doesn't match.

import { MAX_NAME_WIRE } from '../dns/name.ts'

const WAYS = 4
const SETS = 1024
/** How many names the cache holds at once. */
export const CACHED_NAMES = SETS * WAYS
/** A first sighting in a full set gets this slot, which only ever holds the latest such name. */
const TRANSIENT_SLOT = CACHED_NAMES
const SLOTS = CACHED_NAMES + 1
/**
 * A slot is the name's hash (int32); the memo fields beside it (int32 memo serial; int32 outcome:
 * where this name resolved for the memo with that serial; int32 outcome of the names below it that
 * are no node of ours, for the same memo); the name's length; then its bytes. A repeated name
 * finds its key and where it resolved in one run of memory, usually one cache line: kernel work
 * between two queries evicts our data, and a name asked again after a thousand others costs a
 * fetch from far away per line it touches.
 */
const SLOT_BYTES = 4 + 4 + 4 + 4 + 1 + MAX_NAME_WIRE // 272, a multiple of 8
const WORD_STRIDE = SLOT_BYTES / 4
/** Int32 fields of a slot, then where its length byte sits; its bytes follow. */
const MEMO_SERIAL = 1
const MEMO_OUTCOME = 2
const MEMO_BELOW = 3
const LENGTH_AT = 16
const memory = new ArrayBuffer(SLOTS * SLOT_BYTES)
// A Buffer, so a slot's key string is made straight from its bytes.
const slotBytes = Buffer.from(memory)
const slotWords = new Int32Array(memory)
const slotKeys: string[] = new Array<string>(SLOTS).fill('')
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

/** The lowercase form of the name `nameHash` last hashed; names are handled synchronously, so one serves all. */
const lowered = Buffer.allocUnsafe(MAX_NAME_WIRE)

/**
 * FNV-1a of the `length` wire bytes at `start`, ASCII letters lowercased (RFC 4343): the one hash
 * of names. The lowercase bytes are left in `lowered` for the slot lookup that follows.
 */
export function nameHash(bytes: Uint8Array, start: number, length: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < length; i++) {
    const b = bytes[start + i] as number
    const lower = b >= 0x41 && b <= 0x5a ? b | 0x20 : b
    lowered[i] = lower
    hash = Math.imul(hash ^ lower, 0x01000193)
  }
  return hash
}

/** The slot of the name at `start` (wire length `length`, already checked), stored on a miss unless it is a first sighting in a full set. */
export function internName(bytes: Uint8Array, start: number, length: number): number {
  const hash = nameHash(bytes, start, length)
  const slot = findSlot(length, hash)
  return slot >= 0 ? slot : admit(length, hash)
}

/** The slot holding the name at `start`, or -1 when the cache does not hold it (a name in the transient slot is not held). */
export function findName(bytes: Uint8Array, start: number, length: number): number {
  return findSlot(length, nameHash(bytes, start, length))
}

/** The slot holding the `length` bytes in `lowered`, whose hash is `hash`, or -1. */
function findSlot(length: number, hash: number): number {
  const first = (hash & (SETS - 1)) * WAYS
  for (let slot = first; slot < first + WAYS; slot++) {
    if (slotWords[slot * WORD_STRIDE] !== hash) continue
    const base = slot * SLOT_BYTES + LENGTH_AT
    if (slotBytes[base] !== length) continue
    let i = 0
    while (i < length && slotBytes[base + 1 + i] === lowered[i]) i++
    if (i === length) return slot
  }
  return -1
}

/**
 * A miss: an empty slot of the name's set takes it; a full set takes it in place of its oldest
 * name only on a second sighting, and a first sighting goes to the transient slot.
 */
function admit(length: number, hash: number): number {
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
  const base = slot * SLOT_BYTES + LENGTH_AT
  slotBytes[base] = length
  for (let i = 0; i < length; i++) slotBytes[base + 1 + i] = lowered[i] as number
  slotWords[slot * WORD_STRIDE] = hash
  slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0 // what a memo knew was about the name before
  slotKeys[slot] = '' // made when first asked for: a name resolved from its parent's slot needs none
  return slot
}

/** The key (latin1 string of the lowercase wire name, see dns/name.ts) of the name in `slot`. */
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
 * root. Only found, or also stored as `internName` stores names: `slot` itself may be the one taken.
 */
export function parentSlot(slot: number, store: boolean): number {
  const base = slot * SLOT_BYTES + LENGTH_AT
  const label = slotBytes[base + 1] as number
  if (label === 0) return -1
  const length = (slotBytes[base] as number) - label - 1
  const hash = nameHash(slotBytes, base + 2 + label, length)
  const parent = findSlot(length, hash)
  return parent >= 0 || !store ? parent : admit(length, hash)
}

/**
 * One snapshot's outcomes, by index; a slot notes (serial, index). Outcomes are shared by the names
 * that resolve alike: one per node for names that are that node, one per node for names below it
 * that are no node. Bounded: once it holds as many outcomes as there are slots, it starts over
 * under a new serial.
 */
export type NameMemo<Outcome> = {
  serial: number
  outcomes: Outcome[]
  readonly exact: Map<object, number>
  readonly below: Map<object, number>
}

const MAX_SERIAL = 0x7fffffff
/** Serials of this thread's memos; 0 means none, so a slot never matches before it is noted. */
let lastSerial = 0

function nextSerial(): number {
  if (lastSerial === MAX_SERIAL) {
    for (let slot = 0; slot < SLOTS; slot++) slotWords[slot * WORD_STRIDE + MEMO_SERIAL] = 0
    lastSerial = 0
  }
  return ++lastSerial
}

export function createNameMemo<Outcome>(): NameMemo<Outcome> {
  return { serial: nextSerial(), outcomes: [], exact: new Map(), below: new Map() }
}

/** The outcome index `memo` noted for the name in `slot`, or -1. */
export function notedOutcome(memo: NameMemo<unknown>, slot: number): number {
  const words = slot * WORD_STRIDE
  return slotWords[words + MEMO_SERIAL] === memo.serial ? (slotWords[words + MEMO_OUTCOME] as number) : -1
}

/** The outcome index `memo` noted for names below the one in `slot` that are no node, or -1. */
export function notedBelow(memo: NameMemo<unknown>, slot: number): number {
  const words = slot * WORD_STRIDE
  return slotWords[words + MEMO_SERIAL] === memo.serial ? (slotWords[words + MEMO_BELOW] as number) : -1
}

/** Notes in `slot` that its name resolved to outcome `index` of `memo`. */
export function noteOutcome(memo: NameMemo<unknown>, slot: number, index: number): void {
  note(slot * WORD_STRIDE, memo.serial, MEMO_OUTCOME, index)
}

/** Notes in `slot` that names below its name that are no node resolve to outcome `index` of `memo`. */
export function noteBelow(memo: NameMemo<unknown>, slot: number, index: number): void {
  note(slot * WORD_STRIDE, memo.serial, MEMO_BELOW, index)
}

/** Sets one of a slot's two outcomes; the other is forgotten when it was noted for another memo. */
function note(words: number, serial: number, field: number, index: number): void {
  if (slotWords[words + MEMO_SERIAL] !== serial) {
    slotWords[words + MEMO_SERIAL] = serial
    slotWords[words + MEMO_OUTCOME] = -1
    slotWords[words + MEMO_BELOW] = -1
  }
  slotWords[words + field] = index
}

/**
 * The index of the outcome shared by names that are `node` (exact) or lie below it, made by `make`
 * the first time. `node` is any value that stands for where names resolve (a zone node, or a
 * marker for "no zone of ours").
 */
export function sharedOutcome<Outcome>(memo: NameMemo<Outcome>, node: object, exact: boolean, make: () => Outcome): number {
  let index = (exact ? memo.exact : memo.below).get(node)
  if (index !== undefined) return index
  if (memo.outcomes.length === SLOTS) startOver(memo)
  index = memo.outcomes.push(make()) - 1
  ;(exact ? memo.exact : memo.below).set(node, index)
  return index
}

function startOver(memo: NameMemo<unknown>): void {
  memo.serial = nextSerial()
  memo.outcomes = []
  memo.exact.clear()
  memo.below.clear()
}
