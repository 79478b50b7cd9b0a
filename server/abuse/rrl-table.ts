// The rate limiter's accounts: a fixed table, allocated once, whatever the number of prefixes.
// An account is a balance credited `rate` a second up to `cap` and debited one per response
// (BIND's RRL accounting): a response goes out while the balance holds a whole token; over the
// limit it is dropped or slipped, and the balance keeps falling to `floor`, so a prefix that keeps
// flooding stays limited until it has been under the rate for `floor / rate` seconds.
//
// Eviction rule: a key hashes to one set of four slots; a new key takes the set's slot used least
// recently. A flood of random prefixes churns slots but never grows the table, and an account in
// use (a flood in progress) is the last of its set to go.

export const SEND = 0
export const DROP = 1
export const SLIP = 2
export type Verdict = typeof SEND | typeof DROP | typeof SLIP

const WAYS = 4
/** Bytes per slot: two key halves, balance, last use, responses limited. */
export const SLOT_BYTES = 4 + 4 + 8 + 8 + 4

export class RrlTable {
  readonly size: number
  private readonly mask: number
  private readonly keyA: Uint32Array
  private readonly keyB: Uint32Array
  private readonly balance: Float64Array
  /** Seconds (monotonic) the slot was last used; 0: never. */
  private readonly stamp: Float64Array
  /** Responses limited since the account went over the rate; 0: not limited. */
  private readonly limited: Uint32Array
  /** Slots ever taken (a gauge: the table never grows past `size`). */
  used = 0
  /** After `account`: the slot it used; whether its key began being limited; whether a limited episode held in that slot ended. */
  slot = 0
  began = false
  ended = false

  constructor(slots: number) {
    // A power of two, at least one set.
    this.size = 2 ** Math.ceil(Math.log2(Math.max(WAYS, slots)))
    this.mask = (this.size - 1) & ~(WAYS - 1)
    this.keyA = new Uint32Array(this.size)
    this.keyB = new Uint32Array(this.size)
    this.balance = new Float64Array(this.size)
    this.stamp = new Float64Array(this.size)
    this.limited = new Uint32Array(this.size)
  }

  /** One response for the key (two independent 32-bit hashes) at `now` seconds: send it, drop it, or slip it (every `slip`-th limited one). */
  account(a: number, b: number, now: number, rate: number, cap: number, floor: number, slip: number): Verdict {
    const first = a & this.mask
    let slot = -1
    let oldest = first
    for (let i = first; i < first + WAYS; i++) {
      if (this.keyA[i] === a && this.keyB[i] === b && this.stamp[i] !== 0) {
        slot = i
        break
      }
      if ((this.stamp[i] as number) < (this.stamp[oldest] as number)) oldest = i
    }
    this.began = false
    this.ended = false
    let credit: number
    if (slot < 0) {
      slot = oldest
      if (this.stamp[slot] === 0) this.used++
      // The evicted key's episode, if it was limited, ends with its account.
      if (this.limited[slot] !== 0) this.ended = true
      this.keyA[slot] = a
      this.keyB[slot] = b
      this.limited[slot] = 0
      credit = cap
    } else {
      credit = Math.min(cap, (this.balance[slot] as number) + (now - (this.stamp[slot] as number)) * rate)
    }
    this.stamp[slot] = now
    this.slot = slot
    if (credit >= 1) {
      this.balance[slot] = credit - 1
      if (this.limited[slot] !== 0) {
        this.limited[slot] = 0
        this.ended = true
      }
      return SEND
    }
    this.balance[slot] = Math.max(floor, credit - 1)
    const count = ++(this.limited as Uint32Array)[slot]!
    if (count === 1) this.began = true
    return slip > 0 && count % slip === 0 ? SLIP : DROP
  }

  /**
   * Whether the limited episode of key (a, b) in `slot` is over by `now`: the slot went to another
   * key, or the balance has come back to a whole token. An account that went quiet ends here, not
   * at its next response (which may never come).
   */
  settle(slot: number, a: number, b: number, now: number, rate: number, cap: number): boolean {
    if (this.keyA[slot] !== a || this.keyB[slot] !== b || this.limited[slot] === 0) return true
    const credit = Math.min(cap, (this.balance[slot] as number) + (now - (this.stamp[slot] as number)) * rate)
    if (credit < 1) return false
    this.limited[slot] = 0
    return true
  }
}
