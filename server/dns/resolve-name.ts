// Where a query name lands in a snapshot: its zone, its node (the closest encloser) and, for an
// existing name, its GSLB tables. Hot names are asked again and again, so each snapshot carries a
// memo of these lookups: a repeat costs two int32 reads in the name's key-cache slot, which the
// query has just read, instead of three Map lookups. Names with the same outcome share it (every
// NXDOMAIN name under one apex: one outcome). The memo dies with its snapshot, so it never answers
// from old health, admin or zone data; key-cache slots hold only its serial and indexes.

import type { CompiledNode, CompiledZone } from './compile.ts'
import { mayBeNode } from './node-filter.ts'
import { forgetSlotOutcomes, KEY_SLOTS, setSlotBelowOutcome, setSlotOutcome, slotBelowOutcome, slotHash, slotKey, slotOutcome, slotParent } from './wire/key-cache.ts'
import type { NameTables } from '../gslb/tables.ts'
import type { Snapshot, ZoneSet } from '../state/snapshot.ts'
import { closestEncloser } from '../zone/lookup.ts'

export type ResolvedName = {
  readonly zone: CompiledZone
  readonly node: CompiledNode
  /** The node is the name itself, not an ancestor. */
  readonly exact: boolean
  readonly tables: NameTables | undefined
}

/**
 * One snapshot's outcomes, by index (undefined: no zone of ours); a key-cache slot notes (serial,
 * index). Bounded: once it holds as many outcomes as the key cache has slots, it starts over under
 * a new serial.
 */
export type NameMemo = {
  serial: number
  outcomes: (ResolvedName | undefined)[]
  /** Outcome index by node, for names that are the node itself and for names below it. */
  exact: Map<CompiledNode, number>
  enclosed: Map<CompiledNode, number>
  /** Outcome index of names no zone of ours holds, or -1. */
  outside: number
}

const MAX_SERIAL = 0x7fffffff
/** Serials of this thread's memos; 0 means none, so a slot never matches before it is noted. */
let lastSerial = 0

function nextSerial(): number {
  if (lastSerial === MAX_SERIAL) {
    forgetSlotOutcomes()
    lastSerial = 0
  }
  return ++lastSerial
}

export function createNameMemo(): NameMemo {
  return { serial: nextSerial(), outcomes: [], exact: new Map(), enclosed: new Map(), outside: -1 }
}

/** The zone, node and GSLB tables of the name in key-cache `slot`, or undefined when no zone of ours holds it. */
export function resolveName(snapshot: Snapshot, slot: number): ResolvedName | undefined {
  const memo = snapshot.resolved
  const known = slotOutcome(slot, memo.serial)
  return known >= 0 ? memo.outcomes[known] : resolveAndNote(snapshot, memo, slot)
}

/**
 * The memo's miss: look the name up, then note its outcome in its slot. A name that is no node
 * resolves as the names below its parent that are no node: the same zone (or none) and the same
 * closest encloser. So the first such name notes its outcome in its parent's slot too, and the next
 * (a random-subdomain flood) takes it from there without a key string or a Map lookup.
 */
function resolveAndNote(snapshot: Snapshot, memo: NameMemo, slot: number): ResolvedName | undefined {
  const noNode = !mayBeNode(snapshot.zones.nodeFilter, slotHash(slot))
  let parent = noNode ? slotParent(slot, false) : -1
  const below = parent >= 0 ? slotBelowOutcome(parent, memo.serial) : -1
  if (below >= 0) {
    setSlotOutcome(slot, memo.serial, below)
    return memo.outcomes[below]
  }
  const index = lookUp(snapshot, memo, slotKey(slot))
  setSlotOutcome(slot, memo.serial, index)
  const outcome = memo.outcomes[index]
  if (noNode) {
    // A parent not cached is stored as names are, so a flood's parent keeps a slot; it may take `slot`.
    if (parent < 0) parent = slotParent(slot, true)
    if (parent >= 0) setSlotBelowOutcome(parent, memo.serial, index)
  }
  return outcome
}

/** The index of the outcome for `key` in the memo, added when no name had it before. */
function lookUp(snapshot: Snapshot, memo: NameMemo, key: string): number {
  const zone = findZone(snapshot.zones, key)
  if (!zone) {
    if (memo.outside < 0) memo.outside = addOutcome(memo, undefined)
    return memo.outside
  }
  const { node, exact } = closestEncloser(zone.nodes, key, zone.key)
  const byNode = exact ? memo.exact : memo.enclosed
  let index = byNode.get(node)
  if (index === undefined) {
    index = addOutcome(memo, { zone, node, exact, tables: exact ? snapshot.gslb.tables.get(key) : undefined })
    byNode.set(node, index)
  }
  return index
}

function addOutcome(memo: NameMemo, outcome: ResolvedName | undefined): number {
  if (memo.outcomes.length === KEY_SLOTS) startOver(memo)
  return memo.outcomes.push(outcome) - 1
}

function startOver(memo: NameMemo): void {
  memo.serial = nextSerial()
  memo.outcomes = []
  memo.exact.clear()
  memo.enclosed.clear()
  memo.outside = -1
}

/** The zone with the longest origin that is a suffix of the key, if any (no substring is made). */
export function findZone(zones: ZoneSet, key: string): CompiledZone | undefined {
  const byKeyLength = zones.byKeyLength
  let offset = 0
  for (;;) {
    const candidates = byKeyLength.get(key.length - offset)
    if (candidates) for (const zone of candidates) if (key.endsWith(zone.key)) return zone
    const length = key.charCodeAt(offset)
    if (length === 0 || Number.isNaN(length)) return undefined
    offset += length + 1
  }
}
