// Response rate limiting for one thread: hashes each UDP response's account (client prefix,
// response class, accounted name and type) into this thread's table (rrl-table.ts), and logs a
// limited account once when it starts and once when it stops, never per packet.
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
import { coarseSeconds } from './coarse-clock.ts'
import { accountedName, RESPONSE_CLASSES, ResponseClass } from './response-class.ts'
import { RrlTable, SEND, SLIP, SLOT_BYTES, type Verdict } from './rrl-table.ts'
import { inNetworks, type RrlSettings } from './settings.ts'

export { DROP, SEND, SLIP, type Verdict } from './rrl-table.ts'

/** Limited accounts logged one by one per thread; past it they are counted in one line per sweep. */
const MAX_EPISODES = 256
const SWEEP_MS = 1000

type Episode = {
  readonly a: number
  readonly b: number
  readonly fields: { readonly prefix: string; readonly class: string; readonly name?: string; readonly qtype?: string }
  readonly since: number
  dropped: number
  slipped: number
}

export type Limiter = {
  /**
   * What to do with the UDP response `plan` to `query` from the client whose address bytes are
   * `address[0..length)`. `responseClassOf` is responseClass(plan) (the caller counts by it).
   */
  check(settings: RrlSettings, query: Query | undefined, plan: AnswerPlan | undefined, responseClassOf: number, address: Uint8Array, length: number): Verdict
  /** Slots in use and the table's fixed size in bytes. */
  table(): { readonly used: number; readonly bytes: number }
}

/** `shares`: the DNS threads the kernel spreads one port over (1 without workers); `seed`: keys the hash, so no client can aim at a slot. */
export function createLimiter(logger: Logger, shares: number, seed: () => number): Limiter {
  let table: RrlTable | undefined
  let last: RrlSettings | undefined
  const seedA = seed() >>> 0
  const seedB = seed() >>> 0
  const episodes = new Map<number, Episode>()
  let unlogged = 0
  const now = (): number => coarseSeconds() + 1 // never 0: 0 marks an empty slot

  const end = (slot: number): void => {
    const episode = episodes.get(slot)
    if (!episode) return
    episodes.delete(slot)
    logger.info({ rrl: episode.fields, dropped: episode.dropped, slipped: episode.slipped, seconds: Math.round(now() - episode.since) }, 'rrl: stopped limiting')
  }
  // The sweep runs only while some account is limited: a quiet thread holds no timer.
  let sweeping: NodeJS.Timeout | undefined
  const sweep = (): void => {
    sweeping = undefined
    if (last && table) {
      const rate = last.responsesPerSecond / shares
      for (const [slot, episode] of episodes) if (table.settle(slot, episode.a, episode.b, now(), rate, Math.max(1, rate))) end(slot)
    }
    if (unlogged > 0) logger.warn({ accounts: unlogged }, 'rrl: more accounts limited than are logged one by one')
    unlogged = 0
    if (episodes.size > 0) sweepSoon()
  }
  const sweepSoon = (): void => {
    sweeping ??= setTimeout(sweep, SWEEP_MS).unref()
  }

  return {
    check(settings, query, plan, responseClassOf, address, length) {
      if (settings.exempt.length > 0 && inNetworks(settings.exempt, address, length)) return SEND
      if (!table || table.size < settings.tableSize || last?.tableSize !== settings.tableSize) {
        table = new RrlTable(settings.tableSize)
        episodes.clear()
      }
      last = settings
      const bits = length === 4 ? settings.ipv4Prefix : settings.ipv6Prefix
      const owner = plan ? accountedName(plan, responseClassOf) : undefined
      hashA = seedA ^ 2166136261
      hashB = seedB ^ 0x9e3779b9
      mix((length << 24) | (bits << 16) | (responseClassOf << 8))
      for (let i = 0; i < length; i += 4) {
        // The prefix, a 32-bit word at a time, with the bits past it cleared.
        const kept = Math.min(32, Math.max(0, bits - i * 8))
        const word = ((address[i] as number) << 24) | ((address[i + 1] as number) << 16) | ((address[i + 2] as number) << 8) | (address[i + 3] as number)
        mix(kept === 0 ? 0 : word & (-1 << (32 - kept)))
      }
      if (query && (responseClassOf === ResponseClass.answer || responseClassOf === ResponseClass.nodata)) mix(query.qtype)
      if (query && owner) {
        const bytes = owner.kind === 'name' ? owner.wire : query.packet
        const end = owner.kind === 'name' ? bytes.length : 12 + query.nameLength
        const start = owner.kind === 'name' ? 0 : owner.kind === 'suffix' ? end - owner.wireLength : 12
        // Four bytes at a time, case-folded by setting bit 0x20 in each: a resolver's 0x20 mixed
        // case is still the same name (it also folds a few non-letters together: accounts merge,
        // limits only get stricter).
        let i = start
        for (; i + 4 <= end; i += 4) mix(((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24)) | 0x20202020)
        let tail = end - start
        for (; i < end; i++) tail = (tail << 8) | (bytes[i] as number) | 0x20
        mix(tail)
      }
      const a = hashA >>> 0
      const b = hashB >>> 0
      const rate = settings.responsesPerSecond / shares
      const at = now()
      const verdict = table.account(a, b, at, rate, Math.max(1, rate), -settings.windowS * rate, settings.slip)
      if (table.ended) end(table.slot)
      if (table.began) {
        if (episodes.size < MAX_EPISODES) {
          const fields = describe(query, owner, responseClassOf, address, length, bits)
          episodes.set(table.slot, { a, b, fields, since: at, dropped: 0, slipped: 0 })
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
    table: () => ({ used: table?.used ?? 0, bytes: (table?.size ?? 0) * SLOT_BYTES }),
  }
}

// Two multiplicative hashes over 32-bit words, with different seeds and multipliers: a 64-bit key
// in two numbers, kept in module state so hashing a response makes no closure.
let hashA = 0
let hashB = 0
function mix(word: number): void {
  hashA = Math.imul(hashA ^ word, 16777619)
  hashA ^= hashA >>> 13
  hashB = Math.imul(hashB ^ word, 0x5bd1e995)
  hashB ^= hashB >>> 15
}

/** Where the accounted name's wire bytes are: in the query (the name or a suffix of it) or in the plan. */
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
  const masked = Array.from(address.subarray(0, length), (byte, i) => (i * 8 >= bits ? 0 : i * 8 + 8 <= bits ? byte : byte & (0xff << (8 - (bits - i * 8))) & 0xff))
  return ipaddr.fromByteArray(masked).toString()
}
