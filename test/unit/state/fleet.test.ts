// The fleet's pure parts: fleet verdicts from own and peers' verdicts, the operator's summary line,
// and /v1/fleet's split-brain flags.

import { describe, expect, it } from 'vitest'
import { INITIAL_HEALTH, type ProbeTarget, type TargetHealth } from '../../../server/health/types.ts'
import { fleetHealth, ownVerdict, summarize } from '../../../server/state/fleet-health.ts'
import { fleetView } from '../../../server/state/fleet-view.ts'
import type { Member, Verdict } from '../../../server/state/fleet.ts'

const target = (address: string): ProbeTarget => ({ id: `server ${address}`, kind: 'server', address, site: 's', node: undefined, probe: { type: 'tcp', port: 80 }, rules: { intervalMs: 1000, timeoutMs: 800, rise: 2, fall: 2, recheckMs: 150 } })
const health = (state: 'up' | 'down', detail = 'connect ECONNREFUSED'): TargetHealth => ({ ...INITIAL_HEALTH, state, lastChange: Date.UTC(2026, 11, 1), last: state === 'up' ? { ok: true, ms: 1 } : { ok: false, ms: 1, reason: 'refused', detail } })
const verdict = (state: 'up' | 'down', reason = state === 'up' ? 'ok' : 'timeout'): Verdict => ({ state, since: null, reason, target: { kind: 'server', address: '', site: 's', node: undefined } })
const keyOf = (t: ProbeTarget): string => t.address

describe('fleetHealth', () => {
  const [a, b] = [target('192.0.2.1'), target('192.0.2.2')]
  it('each target gets the rule\'s verdict over this instance and its peers; probe details stay this instance\'s', () => {
    const peers = new Map([[a.address, new Map([['ns2', verdict('up')], ['ns3', verdict('up')]])], [b.address, new Map([['ns2', verdict('down')], ['ns3', verdict('down')]])]])
    const { health: merged, views } = fleetHealth([a, b], new Map([[a.id, health('down')], [b.id, health('up')]]), peers, 'majority', 'ns1', keyOf)
    expect(merged.get(a.id)?.state).toBe('up')
    expect(merged.get(a.id)?.last).toEqual(health('down').last)
    expect(merged.get(b.id)?.state).toBe('down')
    expect(views.get(a.id)?.vantagePoints.map((p) => [p.instance, p.state])).toEqual([['ns1', 'down'], ['ns2', 'up'], ['ns3', 'up']])
    expect(views.get(a.id)?.summary).toBe('down at ns1: connect ECONNREFUSED; up at ns2, ns3 → fleet: up')
  })

  it('with no peers (etcd away) the verdict is this instance\'s own', () => {
    const { health: merged } = fleetHealth([a], new Map([[a.id, health('down')]]), new Map(), 'majority', 'ns1', keyOf)
    expect(merged.get(a.id)?.state).toBe('down')
  })

  it('a peer with no verdict yet does not vote', () => {
    const peers = new Map([[a.address, new Map([['ns2', { ...verdict('up'), state: 'unknown' as const }]])]])
    expect(fleetHealth([a], new Map([[a.id, health('down')]]), peers, 'all', 'ns1', keyOf).health.get(a.id)?.state).toBe('down')
  })
})

describe('ownVerdict and summarize', () => {
  it('publishes state, since and the failure that made it down (not the latest probe\'s, so it changes only with the verdict)', () => {
    const wentDown = { id: 'x', from: 'up' as const, to: 'down' as const, at: 1, reason: 'HTTP 503' }
    expect(ownVerdict(target('192.0.2.1'), { ...health('down', 'timeout after 800 ms'), history: [wentDown] })).toMatchObject({ state: 'down', since: '2026-12-01T00:00:00.000Z', reason: 'HTTP 503', target: { kind: 'server', address: '192.0.2.1' } })
    expect(ownVerdict(target('192.0.2.1'), health('up'))).toMatchObject({ state: 'up', reason: 'ok' })
    expect(ownVerdict(target('192.0.2.1'), INITIAL_HEALTH)).toMatchObject({ state: 'unknown', since: null, reason: 'no verdict yet' })
  })

  it('groups the ups, names each down with its reason, down ones first', () => {
    expect(summarize([{ instance: 'ns1', state: 'up', since: null, reason: 'ok' }, { instance: 'ns2', state: 'down', since: null, reason: 'timeout' }, { instance: 'ns3', state: 'down', since: null, reason: 'reset' }], 'down'))
      .toBe('down at ns2: timeout; down at ns3: reset; up at ns1 → fleet: down')
  })
})

describe('fleetView', () => {
  const member = (name: string, serial: number, config = 'c1'): Member => ({ name, version: '0.1.0', started: '', seen: '', zones: [{ name: 'example.test.', serial }], config })
  const link = { connected: true, problem: undefined, since: '2026-12-01T00:00:00.000Z' }
  it('flags the members whose zone serials or config differ from the most common', () => {
    const view = fleetView('ns1', link, [member('ns1', 5), member('ns2', 5), member('ns3', 4, 'c2')])
    expect(view.members.map((m) => [m.name, m.zonesDiffer, m.configDiffers])).toEqual([['ns1', false, false], ['ns2', false, false], ['ns3', true, true]])
    expect(view.differing).toEqual(['ns3'])
  })

  it('a fleet that agrees flags nobody; the link is reported as it is', () => {
    const view = fleetView('ns2', { connected: false, problem: 'etcd: no leader', since: 'x' }, [member('ns1', 5), member('ns2', 5)])
    expect(view).toMatchObject({ instance: 'ns2', connected: false, problem: 'etcd: no leader', differing: [] })
  })
})
