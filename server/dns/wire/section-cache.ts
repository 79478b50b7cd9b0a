// Encoded answer sections of recently used plans, so a repeated answer is copies (header,
// question, sections) instead of a walk over RRsets and pointer patches. Keyed by (plan id,
// question name length): when a plan's sections fit whole, their bytes depend on nothing else,
// since every name pointer is an offset into the question. Direct-mapped and fixed in size per
// thread; it holds ids, not plans, so a reload frees the old snapshot at once (ids are not reused).

// The byte loops here (and in query/name-slots.ts) are their own, not encode's copyBytes: V8 keeps
// one set of type feedback per function, and sharing it with these callers made every query ~35 ns
// slower.

const SLOTS = 4096
/** Larger sections are encoded every time. */
export const MAX_CACHED_SECTIONS = 512

/**
 * One slot is one run of memory: a head (plan id as a float64; then the question name length, the
 * sections' length and the three record counts as uint16; padded to 24 bytes so every slot's id
 * stays 8-byte aligned), then the section bytes. A lookup and its copy touch the same few cache
 * lines, not one per field in separate arrays: most of a query's time goes to kernel work that
 * evicts our data between two queries.
 */
const HEAD = 24
const SLOT_BYTES = HEAD + MAX_CACHED_SECTIONS
const memory = new ArrayBuffer(SLOTS * SLOT_BYTES)
const slotBytes = new Uint8Array(memory)
const slotWords = new Uint16Array(memory)
const slotIds = new Float64Array(memory)
// A slot's start in each view: its id is slotIds[slot * ID_STRIDE]; the uint16 fields sit at
// slotWords[slot * WORD_STRIDE + field].
const ID_STRIDE = SLOT_BYTES / 8
const WORD_STRIDE = SLOT_BYTES / 2
const NAME_LENGTH = 4 // uint16 fields, after the 8-byte id
const LENGTH = 5
const COUNTS = 6
for (let slot = 0; slot < SLOTS; slot++) slotIds[slot * ID_STRIDE] = -1

function slotOf(planId: number, qnameLength: number): number {
  return (Math.imul(planId | 0, 0x9e3779b1) ^ qnameLength) & (SLOTS - 1)
}

/** The slot holding this plan's sections for a question name of this length, or -1. */
export function findSections(planId: number, qnameLength: number): number {
  const slot = slotOf(planId, qnameLength)
  return slotIds[slot * ID_STRIDE] === planId && slotWords[slot * WORD_STRIDE + NAME_LENGTH] === qnameLength ? slot : -1
}

export function storeSections(planId: number, qnameLength: number, from: Uint8Array, start: number, end: number, answers: number, authority: number, additional: number): void {
  if (end - start > MAX_CACHED_SECTIONS) return
  const slot = slotOf(planId, qnameLength)
  const base = slot * SLOT_BYTES
  for (let i = start; i < end; i++) slotBytes[base + HEAD + i - start] = from[i] as number
  const words = slot * WORD_STRIDE
  slotIds[slot * ID_STRIDE] = planId
  slotWords[words + NAME_LENGTH] = qnameLength
  slotWords[words + LENGTH] = end - start
  slotWords[words + COUNTS] = answers
  slotWords[words + COUNTS + 1] = authority
  slotWords[words + COUNTS + 2] = additional
}

export function sectionsLength(slot: number): number {
  return slotWords[slot * WORD_STRIDE + LENGTH] as number
}

export function sectionCount(slot: number, section: 0 | 1 | 2): number {
  return slotWords[slot * WORD_STRIDE + COUNTS + section] as number
}

/** Copies a slot's sections to `to` at `at`. */
export function copySections(slot: number, to: Uint8Array, at: number): void {
  const base = slot * SLOT_BYTES + HEAD
  const length = slotWords[slot * WORD_STRIDE + LENGTH] as number
  for (let i = 0; i < length; i++) to[at + i] = slotBytes[base + i] as number
}
