// Encoded answer sections of recently used plans, so a repeated answer is copies (header,
// question, sections) instead of a walk over RRsets and pointer patches. Keyed by (plan id,
// question name length): when a plan's sections fit whole, their bytes depend on nothing else,
// since every name pointer is an offset into the question. Direct-mapped and fixed in size per
// thread; it holds ids, not plans, so a reload frees the old snapshot at once (ids are not reused).

// The byte loops here and in key-cache.ts are their own, not encode's copyBytes: V8 keeps one set
// of type feedback per function, and sharing it with these callers made every query ~35 ns slower.

const SLOTS = 4096
/** Larger sections are encoded every time. */
export const MAX_CACHED_SECTIONS = 512

const slotBytes = new Uint8Array(SLOTS * MAX_CACHED_SECTIONS)
const slotPlans = new Float64Array(SLOTS).fill(-1)
const slotNameLengths = new Uint16Array(SLOTS)
const slotLengths = new Uint16Array(SLOTS)
/** Record counts per slot: answer, authority, additional. */
const slotCounts = new Uint16Array(SLOTS * 3)

function slotOf(planId: number, qnameLength: number): number {
  return (Math.imul(planId | 0, 0x9e3779b1) ^ qnameLength) & (SLOTS - 1)
}

/** The slot holding this plan's sections for a question name of this length, or -1. */
export function findSections(planId: number, qnameLength: number): number {
  const slot = slotOf(planId, qnameLength)
  return slotPlans[slot] === planId && slotNameLengths[slot] === qnameLength ? slot : -1
}

export function storeSections(planId: number, qnameLength: number, from: Uint8Array, start: number, end: number, answers: number, authority: number, additional: number): void {
  if (end - start > MAX_CACHED_SECTIONS) return
  const slot = slotOf(planId, qnameLength)
  const base = slot * MAX_CACHED_SECTIONS
  for (let i = start; i < end; i++) slotBytes[base + i - start] = from[i] as number
  slotPlans[slot] = planId
  slotNameLengths[slot] = qnameLength
  slotLengths[slot] = end - start
  slotCounts[slot * 3] = answers
  slotCounts[slot * 3 + 1] = authority
  slotCounts[slot * 3 + 2] = additional
}

export function sectionsLength(slot: number): number {
  return slotLengths[slot] as number
}

export function sectionCount(slot: number, section: 0 | 1 | 2): number {
  return slotCounts[slot * 3 + section] as number
}

/** Copies a slot's sections to `to` at `at`. */
export function copySections(slot: number, to: Uint8Array, at: number): void {
  const base = slot * MAX_CACHED_SECTIONS
  const length = slotLengths[slot] as number
  for (let i = 0; i < length; i++) to[at + i] = slotBytes[base + i] as number
}
