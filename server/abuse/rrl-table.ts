// The rate limiter's accounts: a fixed table, allocated once, whatever the number of prefixes.
// An account is a balance credited `rate` a second up to `cap` and debited one per response
// (BIND's RRL accounting): a response goes out while the balance holds a whole token; over the
// limit it is dropped or slipped, and the balance keeps falling to `floor`, so a prefix that keeps
// flooding stays limited until it has been under the rate for `floor / rate` seconds.
//
// Eviction rule: a key goes to one set of four slots, in its client prefix's group of 64 sets (one
// 4 KiB page: a client's accounts share a page, and so one TLB entry; a table spread over more
// pages per query cost ~2% of a query in `npm run bench`); a new key takes the set's slot used
// least recently. A flood of random prefixes churns slots but never grows the table, and an
// account in use (a flood in progress) is the last of its set to go.

export const SEND = 0
export const DROP = 1
export const SLIP = 2
export type Verdict = typeof SEND | typeof DROP | typeof SLIP

const WAYS = 4
const SETS_PER_GROUP = 64
/**
 * One slot in 16 bytes: key, last use (ms, wrapping), balance, responses limited; a set of four is
 * one 64-byte cache line, so a lookup reads one line. The kernel's work between two queries
 * evicts our data, and a table spread over 5 arrays cost ~2% of a query in `npm run bench`.
 */
const FIELDS = 4
const KEY = 0
const STAMP = 1
const BALANCE = 2
const LIMITED = 3
export const SLOT_BYTES = FIELDS * 4

export class RrlTable {
  readonly size: number
  private readonly groupMask: number
  /** KEY, STAMP, LIMITED per slot (STAMP 0: never used; LIMITED 0: not limited)… */
  private readonly words: Uint32Array
  /** …and BALANCE, in the same memory. */
  private readonly balances: Float32Array
  /** Slots ever taken (a gauge: the table never grows past `size`). */
  used = 0
  /** After `account`: the slot it used; whether its key began being limited; whether a limited episode held in that slot ended. */
  slot = 0
  began = false
  ended = false

  constructor(slots: number) {
    // A power of two, at least one group.
    this.size = 2 ** Math.ceil(Math.log2(Math.max(WAYS * SETS_PER_GROUP, slots)))
    this.groupMask = this.size / (WAYS * SETS_PER_GROUP) - 1
    const memory = new ArrayBuffer(this.size * SLOT_BYTES)
    this.words = new Uint32Array(memory)
    this.balances = new Float32Array(memory)
  }

  /**
   * One response for `key` (a 32-bit hash) of the client prefix hashed to `group`, at `nowMs` (a
   * millisecond clock that wraps at 2^32, never 0): send it, drop it, or slip it (every
   * `slip`-th limited one). `rate` is per second.
   */
  account(group: number, key: number, nowMs: number, rate: number, cap: number, floor: number, slip: number): Verdict {
    const words = this.words
    const first = (((group & this.groupMask) * SETS_PER_GROUP + (key & (SETS_PER_GROUP - 1))) * WAYS) * FIELDS
    let at = -1
    let oldest = first
    let oldestAge = -1
    for (let i = first; i < first + WAYS * FIELDS; i += FIELDS) {
      const stamp = words[i + STAMP] as number
      if (words[i + KEY] === key && stamp !== 0) {
        at = i
        break
      }
      // Least recently used: the greatest age (an empty slot is the oldest of all).
      const age = stamp === 0 ? 2 ** 32 : (nowMs - stamp) >>> 0
      if (age > oldestAge) {
        oldestAge = age
        oldest = i
      }
    }
    this.began = false
    this.ended = false
    let credit: number
    if (at < 0) {
      at = oldest
      if (words[at + STAMP] === 0) this.used++
      // The evicted key's episode, if it was limited, ends with its account.
      if (words[at + LIMITED] !== 0) this.ended = true
      words[at + KEY] = key
      words[at + LIMITED] = 0
      credit = cap
    } else {
      credit = Math.min(cap, (this.balances[at + BALANCE] as number) + (((nowMs - (words[at + STAMP] as number)) >>> 0) / 1000) * rate)
    }
    words[at + STAMP] = nowMs
    this.slot = at / FIELDS
    if (credit >= 1) {
      this.balances[at + BALANCE] = credit - 1
      if (words[at + LIMITED] !== 0) {
        words[at + LIMITED] = 0
        this.ended = true
      }
      return SEND
    }
    this.balances[at + BALANCE] = Math.max(floor, credit - 1)
    const count = (words[at + LIMITED] as number) + 1
    words[at + LIMITED] = count
    if (count === 1) this.began = true
    return slip > 0 && count % slip === 0 ? SLIP : DROP
  }

  /**
   * Whether the limited episode of `key` in `slot` is over by `nowMs`: the slot went to another
   * key, or the balance has come back to a whole token. An account that went quiet ends here, not
   * at its next response (which may never come).
   */
  settle(slot: number, key: number, nowMs: number, rate: number, cap: number): boolean {
    const words = this.words
    const at = slot * FIELDS
    if (words[at + KEY] !== key || words[at + LIMITED] === 0) return true
    const credit = Math.min(cap, (this.balances[at + BALANCE] as number) + (((nowMs - (words[at + STAMP] as number)) >>> 0) / 1000) * rate)
    if (credit < 1) return false
    words[at + LIMITED] = 0
    return true
  }
}
