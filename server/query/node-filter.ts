// Which names are nodes of a zone set, as a bit filter over their hashes (`nameHash`, the hash the
// name slots keep). A name whose two bits are not both set is no node of any zone: resolve-name.ts
// then resolves it as the names below its parent resolved, with no key string and no Map lookup,
// which is what a flood of random names asks for. A false positive (about 1.4% of such names at 16
// bits per node) only sends a name the long way.

import { MAX_NAME_WIRE } from '../dns/name.ts'
import type { ZoneSet } from '../zone/zone-set.ts'
import { nameHash } from './name-slots.ts'

export type NodeFilter = {
  readonly words: Uint32Array
  /** 32 less log2 of the filter's bits: the second bit is the top bits of a multiplicative hash. */
  readonly shift: number
}

const BITS_PER_NODE = 16
const MIN_BITS = 1 << 11

/** The filter of every node of every zone in `zones`, their apexes among them. */
export function buildNodeFilter(zones: ZoneSet): NodeFilter {
  const keys = [...zones.byKey.values()].flatMap((zone) => [...zone.nodes.keys()])
  let bits = MIN_BITS
  while (bits < keys.length * BITS_PER_NODE && bits < 2 ** 31) bits *= 2
  const filter = { words: new Uint32Array(bits / 32), shift: 32 - Math.log2(bits) }
  const wire = Buffer.allocUnsafe(MAX_NAME_WIRE)
  for (const key of keys) {
    const hash = nameHash(wire, 0, wire.write(key, 'latin1'))
    setBit(filter.words, firstBit(filter, hash))
    setBit(filter.words, secondBit(filter, hash))
  }
  return filter
}

/** False when the name with this hash is surely no node. */
export function mayBeNode(filter: NodeFilter, hash: number): boolean {
  return hasBit(filter.words, firstBit(filter, hash)) && hasBit(filter.words, secondBit(filter, hash))
}

function firstBit(filter: NodeFilter, hash: number): number {
  return hash & (filter.words.length * 32 - 1)
}

function secondBit(filter: NodeFilter, hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> filter.shift
}

function hasBit(words: Uint32Array, bit: number): boolean {
  return ((words[bit >>> 5] as number) & (1 << (bit & 31))) !== 0
}

function setBit(words: Uint32Array, bit: number): void {
  words[bit >>> 5] = (words[bit >>> 5] as number) | (1 << (bit & 31))
}
