// Response rate limiting for one thread: hashes each UDP response's account (client prefix,
// response class, and its plan, or for a GSLB name the name and type) into this thread's table
// (rrl-table.ts), and logs a limited account once when it starts and once when it stops, never
// per packet.
//
// DNS workers: the kernel spreads datagrams over the N workers by source address and port, and
// each worker has its own table, so each accounts `1/N` of the rate. A spoofed flood from random
// ports (or a resolver, whose ports are random) is held to the configured rate in total; a sender
// on one fixed port lands on one worker and gets `1/N` of it, never more than the rate.

import ipaddr from 'ipaddr.js'
import type { Logger } from 'pino'
import type { AnswerPlan, OwnerRef } from '../dns/plan.ts'
import { nameToText } from '../dns/name.ts'
import { typeName, type Query } from '../dns/types.ts'
import { coarseMs } from './coarse-clock.ts'
import { accountedName, RESPONSE_CLASSES, ResponseClass } from './response-class.ts'
import { RrlTable, SEND, SLIP, SLOT_BYTES, type Verdict } from './rrl-table.ts'
import { inNetworks, prefixByte, type RrlSettings } from './settings.ts'

export { DROP, SEND, SLIP, type Verdict } from './rrl-table.ts'

/** Limited accounts logged one by one per thread; past it they are counted in one line per sweep. */
const MAX_EPISODES = 256
const SWEEP_MS = 1000

type Episode = {
  readonly key: number
  readonly fields: { readonly prefix: string; readonly class: string; readonly name?: string; readonly qtype?: string }
  readonly since: number
  dropped: number
  slipped: number
}

export type Limiter = {
  /**
   * What to do with the UDP response `plan` to `query` from the client whose address bytes are
   * `address[0..length)`. `responseClassOf` is responseClass(plan) (the caller counts by it);
   * `byName`: a GSLB answer, counted by its name and type rather than by its plan.
   */
  check(settings: RrlSettings, query: Query | undefined, plan: AnswerPlan | undefined, responseClassOf: number, byName: boolean, address: Uint8Array, length: number): Verdict
  /** Slots in use and the table's fixed size in bytes. */
  table(): { readonly used: number; readonly bytes: number }
}

/** `shares`: the DNS threads the kernel spreads one port over (1 without workers); `seed`: keys the hash, so no client can aim at a slot. */
export function createLimiter(logger: Logger, shares: number, seed: () => number): Limiter {
  let last: RrlSettings | undefined
  const seed32 = seed() | 0
  const episodes = new Map<number, Episode>()
  let unlogged = 0
  const now = coarseMs

  const end = (slot: number): void => {
    const episode = episodes.get(slot)
    if (!episode) return
    episodes.delete(slot)
    logger.info({ rrl: episode.fields, dropped: episode.dropped, slipped: episode.slipped, seconds: Math.round(((now() - episode.since) >>> 0) / 1000) }, 'rrl: stopped limiting')
  }
  // What the settings in use make of this thread's share, worked out once per settings.
  let rate = 0
  let cap = 1
  let floor = 0
  let table = new RrlTable(0) // replaced by the first settings
  const adopt = (settings: RrlSettings): void => {
    // A reload that changes table_size starts a new table (and forgets the accounts).
    if (last?.tableSize !== settings.tableSize) {
      table = new RrlTable(settings.tableSize)
      episodes.clear()
    }
    last = settings
    rate = settings.responsesPerSecond / shares
    cap = Math.max(1, rate)
    floor = -settings.windowS * rate
  }

  // The sweep runs only while some account is limited: a quiet thread holds no timer.
  let sweeping: NodeJS.Timeout | undefined
  const sweep = (): void => {
    sweeping = undefined
    for (const [slot, episode] of episodes) if (table.settle(slot, episode.key, now(), rate, cap)) end(slot)
    if (unlogged > 0) logger.warn({ accounts: unlogged }, 'rrl: more accounts limited than are logged one by one')
    unlogged = 0
    if (episodes.size > 0) sweepSoon()
  }
  const sweepSoon = (): void => {
    sweeping ??= setTimeout(sweep, SWEEP_MS).unref()
  }

  return {
    check(settings, query, plan, responseClassOf, byName, address, length) {
      if (settings !== last) adopt(settings)
      if (settings.exempt.length > 0 && inNetworks(settings.exempt, address, length)) return SEND
      const bits = length === 4 ? settings.ipv4Prefix : settings.ipv6Prefix
      // Multiplicative hashes over 32-bit words, keyed by the seed: first the prefix, which picks
      // the prefix's group of sets in the table, then the account within it (two accounts share a
      // key about once in 10^9 lookups: they then share a balance, which only limits sooner).
      let h = Math.imul(seed32 ^ ((length << 24) | (bits << 16)), 0x5bd1e995)
      h ^= h >>> 15
      for (let i = 0; i < length; i += 4) {
        // The prefix, a word at a time, with the bits past it cleared.
        const kept = bits - i * 8
        const word = ((address[i] as number) << 24) | ((address[i + 1] as number) << 16) | ((address[i + 2] as number) << 8) | (address[i + 3] as number)
        h = Math.imul(h ^ (kept <= 0 ? 0 : kept >= 32 ? word : word & (-1 << (32 - kept))), 0x5bd1e995)
        h ^= h >>> 15
      }
      const group = h
      h = Math.imul(h ^ (responseClassOf << 16) ^ (byName && query ? query.qtype : 0), 0x5bd1e995)
      h ^= h >>> 15
      if (query && plan && byName) {
        // A GSLB name's answers are many plans (rotations, sites): counted by the name itself,
        // four bytes at a time, case-folded by setting bit 0x20 in each (a resolver's 0x20 mixed
        // case is the same name; a few non-letters fold together too: accounts merge, limits
        // only get stricter).
        const end = 12 + query.nameLength
        let i = 12
        for (; i + 4 <= end; i += 4) {
          h = Math.imul(h ^ (((query.packet[i] as number) | ((query.packet[i + 1] as number) << 8) | ((query.packet[i + 2] as number) << 16) | ((query.packet[i + 3] as number) << 24)) | 0x20202020), 0x5bd1e995)
          h ^= h >>> 15
        }
        let tail = query.nameLength
        for (; i < end; i++) tail = (tail << 8) | (query.packet[i] as number) | 0x20
        h = Math.imul(h ^ tail, 0x5bd1e995)
      } else if (plan && responseClassOf !== ResponseClass.error) {
        // Any other response is one plan of a zone node (wildcards included: one plan answers
        // every name it synthesizes), or the zone's NXDOMAIN: the plan is the account.
        h = Math.imul(h ^ (plan.id % 4294967296), 0x5bd1e995)
        h ^= h >>> 15
        h = Math.imul(h ^ Math.floor(plan.id / 4294967296), 0x5bd1e995)
      }
      h ^= h >>> 13
      const key = h >>> 0
      const at = now()
      const verdict = table.account(group, key, at, rate, cap, floor, settings.slip)
      if (table.ended) end(table.slot)
      if (table.began) {
        if (episodes.size < MAX_EPISODES) {
          const fields = describe(query, plan ? accountedName(plan, responseClassOf) : undefined, responseClassOf, address, length, bits)
          episodes.set(table.slot, { key, fields, since: at, dropped: 0, slipped: 0 })
          logger.warn({ rrl: fields }, 'rrl: limiting responses')
        } else unlogged++
        sweepSoon()
      }
      if (verdict !== SEND) {
        const episode = episodes.get(table.slot)
        if (episode) verdict === SLIP ? episode.slipped++ : episode.dropped++
      }
      return verdict
    },
    table: () => (last ? { used: table.used, bytes: table.size * SLOT_BYTES } : { used: 0, bytes: 0 }),
  }
}

/** Where a logged name's wire bytes are: in the query (the name or a suffix of it) or in the plan. */
function nameBytes(query: Query, owner: OwnerRef): readonly [Uint8Array, number, number] {
  const end = 12 + query.nameLength
  switch (owner.kind) {
    case 'qname':
      return [query.packet, 12, end]
    case 'suffix':
      return [query.packet, end - owner.wireLength, end]
    case 'name':
      return [owner.wire, 0, owner.wire.length]
  }
}

function describe(query: Query | undefined, owner: OwnerRef | undefined, responseClassOf: number, address: Uint8Array, length: number, bits: number): Episode['fields'] {
  const prefix = `${formatPrefix(address, length, bits)}/${bits}`
  const cls = RESPONSE_CLASSES[responseClassOf] as string
  if (!query || !owner) return { prefix, class: cls }
  const [bytes, start, end] = nameBytes(query, owner)
  const name = nameToText(bytes.subarray(start, end))
  return responseClassOf === ResponseClass.answer || responseClassOf === ResponseClass.nodata ? { prefix, class: cls, name, qtype: typeName(query.qtype) } : { prefix, class: cls, name }
}

function formatPrefix(address: Uint8Array, length: number, bits: number): string {
  const masked = Array.from(address.subarray(0, length), (byte, i) => prefixByte(byte, i, bits))
  return ipaddr.fromByteArray(masked).toString()
}
