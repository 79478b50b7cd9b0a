// Operator changes decided without I/O: clearing overrides (and one a removed target left behind),
// maintenance windows and which have ended.

import { describe, expect, it } from 'vitest'
import type { GslbConfig } from '../../../server/gslb/build.ts'
import { decideAdminChange, expiredOverrides, nextExpiry, type AdminFile, type AdminRecord } from '../../../server/state/admin-state.ts'

const SITE = { name: 'tokyo', vips: ['192.0.2.10'], location: undefined, weight: 1, lbPair: [], check: undefined }
const GSLB: GslbConfig = { names: [], sites: new Map([['tokyo', SITE]]) }
const AT = '2026-12-02T00:00:00.000Z'
const record = (fields: Partial<AdminRecord>): AdminRecord => ({ state: 'enabled', weight: undefined, reason: 'r', actor: 'ops (operate)', at: AT, ...fields })

describe('clearing', () => {
  const file: AdminFile = { servers: { '192.0.2.10': record({ state: 'drain', weight: 3 }) }, sites: { osaka: record({ state: 'disabled' }) } }

  it('clear state keeps the weight; clear weight then leaves nothing, so the override goes', () => {
    const first = decideAdminChange(file, GSLB, new Map(), { kind: 'server', address: '192.0.2.10' }, { clear: 'state', reason: 'done' }, 'ops (operate)', AT)
    if (!first.ok) throw new Error(first.message)
    expect(first.record).toMatchObject({ state: 'enabled', weight: 3 })
    const second = decideAdminChange(first.next, GSLB, new Map(), { kind: 'server', address: '192.0.2.10' }, { clear: 'weight', reason: 'done' }, 'ops (operate)', AT)
    if (!second.ok) throw new Error(second.message)
    expect(second.record).toBeUndefined()
    expect(second.next.servers).toEqual({})
    expect(second.entry).toMatchObject({ from: { state: 'enabled', weight: 3 }, to: null })
  })

  it('an override of a site the config no longer has can be cleared, not set', () => {
    const cleared = decideAdminChange(file, GSLB, new Map(), { kind: 'site', site: 'osaka' }, { clear: 'all', reason: 'site removed' }, 'ops (operate)', AT)
    expect(cleared.ok && cleared.next.sites).toEqual({})
    const set = decideAdminChange(file, GSLB, new Map(), { kind: 'site', site: 'osaka' }, { state: 'drain', reason: 'x' }, 'ops (operate)', AT)
    expect(set).toMatchObject({ ok: false, status: 404 })
  })
})

describe('maintenance windows', () => {
  it('a write sets until; a later write without one replaces it with none; the first end is next', () => {
    const windowed = decideAdminChange({ servers: {}, sites: {} }, GSLB, new Map(), { kind: 'site', site: 'tokyo' }, { state: 'drain', reason: 'w', until: '2026-12-02T01:00:00.000Z' }, 'a', AT)
    if (!windowed.ok) throw new Error(windowed.message)
    expect(windowed.record?.until).toBe('2026-12-02T01:00:00.000Z')
    expect(nextExpiry(windowed.next)).toBe(Date.parse('2026-12-02T01:00:00.000Z'))
    expect(expiredOverrides(windowed.next, Date.parse('2026-12-02T00:59:59.999Z'))).toEqual([])
    expect(expiredOverrides(windowed.next, Date.parse('2026-12-02T01:00:00.000Z'))).toEqual([{ target: { kind: 'site', site: 'tokyo' }, until: '2026-12-02T01:00:00.000Z' }])
    const plain = decideAdminChange(windowed.next, GSLB, new Map(), { kind: 'site', site: 'tokyo' }, { weight: 2, reason: 'stays' }, 'a', AT)
    expect(plain.ok && plain.record?.until).toBeUndefined()
    expect(plain.ok && nextExpiry(plain.next)).toBeUndefined()
  })
})
