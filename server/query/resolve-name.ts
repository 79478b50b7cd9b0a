// Where a query name lands in a snapshot: its zone, its node (the closest encloser) and, for an
// existing name, its GSLB tables. Hot names are asked again and again, so each snapshot's cache
// holds a memo of these lookups (name-slots.ts): a repeat costs two int32 reads in the name's slot,
// which finding the name has just read, instead of three Map lookups. The memo dies with its
// snapshot, so it never answers from old health, admin or zone data.

import { findZone } from '../zone/zone-set.ts'
import { closestEncloser } from '../zone/lookup.ts'
import { internName, noteBelow, notedBelow, notedOutcome, noteOutcome, parentSlot, sharedOutcome, slotHash, slotKey, type NameMemo } from './name-slots.ts'
import { mayBeNode } from './node-filter.ts'
import type { ResolvedName, Snapshot } from './snapshot.ts'

/** The question name sits right after the header. */
const QUESTION_AT = 12
/** Stands for "no zone of ours" among the nodes outcomes are shared by. */
const OUTSIDE = Object.freeze({})

type Memo = NameMemo<ResolvedName | undefined>

/** The zone, node and GSLB tables of the question name (`nameLength` wire bytes at offset 12), or undefined when no zone of ours holds it. */
export function resolveName(snapshot: Snapshot, packet: Uint8Array, nameLength: number): ResolvedName | undefined {
  const slot = internName(packet, QUESTION_AT, nameLength)
  const memo = snapshot.cache.names
  const known = notedOutcome(memo, slot)
  return known >= 0 ? memo.outcomes[known] : resolveAndNote(snapshot, memo, slot)
}

/**
 * The memo's miss: look the name up, then note its outcome in its slot. A name that is no node
 * resolves as the names below its parent that are no node: the same zone (or none) and the same
 * closest encloser. So the first such name notes its outcome in its parent's slot too, and the next
 * (a random-subdomain flood) takes it from there without a key string or a Map lookup.
 */
function resolveAndNote(snapshot: Snapshot, memo: Memo, slot: number): ResolvedName | undefined {
  const noNode = !mayBeNode(snapshot.nodeFilter, slotHash(slot))
  let parent = noNode ? parentSlot(slot, false) : -1
  const below = parent >= 0 ? notedBelow(memo, parent) : -1
  if (below >= 0) {
    noteOutcome(memo, slot, below)
    return memo.outcomes[below]
  }
  const index = lookUp(snapshot, memo, slotKey(slot))
  noteOutcome(memo, slot, index)
  const outcome = memo.outcomes[index]
  if (noNode) {
    // A parent not cached is stored as names are, so a flood's parent keeps a slot; it may take `slot`.
    if (parent < 0) parent = parentSlot(slot, true)
    if (parent >= 0) noteBelow(memo, parent, index)
  }
  return outcome
}

/** The index of the outcome for `key` in the memo, added when no name had it before. */
function lookUp(snapshot: Snapshot, memo: Memo, key: string): number {
  const zone = findZone(snapshot.zones, key)
  if (!zone) return sharedOutcome(memo, OUTSIDE, false, () => undefined)
  const { node, exact } = closestEncloser(zone.nodes, key, zone.key)
  return sharedOutcome(memo, node, exact, () => ({ zone, node, exact, tables: exact ? snapshot.gslb.tables.get(key) : undefined }))
}
