// The rate limiter's accounts, driven with a made-up clock: BIND's balance (credit to the cap,
// debt to the floor), slip, episodes beginning and ending, and the eviction rule.

import { describe, expect, it } from 'vitest'
import { DROP, RrlTable, SEND, SLIP, SLOT_BYTES } from '../../../server/abuse/rrl-table.ts'

const RATE = 5
const CAP = 5
const FLOOR = -10 // window 2 s
/** `now` in seconds; the table's clock is in milliseconds. */
const account = (table: RrlTable, key: number, now: number, slip = 2, group = 0) => table.account(group, key, Math.round(now * 1000), RATE, CAP, FLOOR, slip)
const settle = (table: RrlTable, slot: number, key: number, now: number) => table.settle(slot, key, Math.round(now * 1000), RATE, CAP)

describe('rrl table', () => {
  it('sends the cap at once, then limits: every 2nd limited response slips, the rest drop', () => {
    const table = new RrlTable(1024)
    const verdicts = Array.from({ length: 11 }, () => account(table, 1, 10))
    expect(verdicts).toEqual([SEND, SEND, SEND, SEND, SEND, DROP, SLIP, DROP, SLIP, DROP, SLIP])
  })

  it('slip 0 drops every limited response; slip 1 slips every one', () => {
    const none = new RrlTable(1024)
    const all = new RrlTable(1024)
    expect(Array.from({ length: 8 }, () => account(none, 1, 10, 0)).slice(5)).toEqual([DROP, DROP, DROP])
    expect(Array.from({ length: 8 }, () => account(all, 1, 10, 1)).slice(5)).toEqual([SLIP, SLIP, SLIP])
  })

  it('holds a sustained flood to nothing past the first burst: the debt eats the credit', () => {
    const table = new RrlTable(1024)
    let sent = 0
    // 1,000 responses a second for 10 s at a rate of 5.
    for (let i = 0; i < 10_000; i++) if (account(table, 1, 10 + i / 1000) === SEND) sent++
    expect(sent).toBe(CAP)
  })

  it('a client under the rate is never limited', () => {
    const table = new RrlTable(1024)
    const verdicts = Array.from({ length: 100 }, (_, i) => account(table, 1, 10 + i * 0.25)) // 4 a second
    expect(verdicts.every((v) => v === SEND)).toBe(true)
  })

  it('an account in debt answers again once it has been quiet for the window; the episode begins once and ends once', () => {
    const table = new RrlTable(1024)
    for (let i = 0; i < 100; i++) account(table, 1, 10)
    const slot = table.slot
    expect(settle(table, slot, 1, 11)).toBe(false) // -10 + 5: still in debt
    expect(account(table, 1, 11.5)).not.toBe(SEND)
    expect(table.began).toBe(false)
    // At 11.5 the balance was -10 + 7.5 - 1 = -3.5: it holds a whole token again 0.9 s later.
    expect(settle(table, slot, 1, 12.3)).toBe(false)
    expect(settle(table, slot, 1, 12.5)).toBe(true)
    expect(account(table, 1, 12.5)).toBe(SEND)
    expect(table.ended).toBe(false) // the sweep already ended it
    const fresh = new RrlTable(1024)
    const began = Array.from({ length: 8 }, () => (account(fresh, 2, 10), fresh.began))
    expect(began.filter(Boolean)).toHaveLength(1)
    expect(account(fresh, 2, 20)).toBe(SEND)
    expect(fresh.ended).toBe(true)
  })

  it('stays its size under any number of keys and prefixes; a new key takes the least recently used slot of its set', () => {
    const table = new RrlTable(1000)
    expect(table.size).toBe(1024)
    for (let key = 0; key < 100_000; key++) account(table, Math.imul(key, 2654435761) >>> 0, 10 + key / 1e6, 2, key >>> 6)
    expect(table.used).toBe(1024)
    expect(table.size * SLOT_BYTES).toBe(1024 * 16)
    // In one prefix's group, keys with the same low 6 bits share a set; a busy one survives newcomers.
    const busy = new RrlTable(1024)
    const inSet = (n: number) => n * 64
    for (let i = 0; i < 10; i++) account(busy, inSet(1), 50 + i) // busy, used last at 59
    account(busy, inSet(2), 40)
    account(busy, inSet(3), 41)
    account(busy, inSet(4), 42)
    account(busy, inSet(5), 60) // the set is full: the least recent (inSet(2), at 40) goes
    for (let i = 0; i < 10; i++) account(busy, inSet(1), 61) // still its own account: limited after the cap
    expect(busy.began || account(busy, inSet(1), 61) !== SEND).toBe(true)
    expect(account(busy, inSet(2), 62)).toBe(SEND) // a new account: full credit
  })
})
