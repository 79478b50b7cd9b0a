// The control plane on its own: fake prober, fake replicas (DNS workers), a fake admin store and
// a fixed clock; no socket, no timer. Each write's order of effects is what the rules say: decided,
// durable, published, followed by every replica, then acknowledged.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { beforeEach, describe, expect, it } from 'vitest'
import type { TargetHealth, Transition } from '../../../server/health/types.ts'
import type { LoadPollerOptions, SiteReadings } from '../../../server/load/poller.ts'
import type { LoadReading } from '../../../server/load/types.ts'
import { createMetrics } from '../../../server/metrics/metrics.ts'
import type { Snapshot } from '../../../server/query/snapshot.ts'
import { EMPTY_ADMIN_FILE } from '../../../server/state/admin-state-file.ts'
import type { AdminFile, AdminStore, RemoteAdminChange } from '../../../server/state/admin-state.ts'
import type { AuditEntry } from '../../../server/state/audit-log.ts'
import { createControlPlane, type ControlEvent, type ControlPlane, type Prober, type ProberOptions, type Replicas } from '../../../server/state/control.ts'
import { targetKey, type Fleet, type FleetLink, type LbRecord, type Verdict } from '../../../server/state/fleet.ts'
import { loadInputs, type LoadResult } from '../../../server/state/load-inputs.ts'
import { readSettings } from '../../../server/state/settings.ts'

const ZONE = '$ORIGIN ctl.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\nwww A 198.51.100.10\n'
const CONFIG = `checks:
  web: { type: tcp, port: 80 }
sites:
  tokyo: { vips: [192.0.2.10], check: web, lb_pair: { tokyo-lb1: 127.0.0.11, tokyo-lb2: 127.0.0.12 } }
  osaka: { vips: [198.51.100.10], check: web }
names:
  www.ctl.test.: { policy: all }
`
const NOW = new Date('2026-12-01T12:00:00.000Z')

/** A promise and the function that resolves it, for steps a test releases by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Whether `promise` has settled by the time every queued microtask and the next macrotask ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true), () => (done = true))
  await new Promise((r) => setImmediate(r))
  return done
}

let dir: string
let load: () => Promise<LoadResult>

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'signpost-control-'))
  writeFileSync(join(dir, 'ctl.test.zone'), ZONE)
  writeFileSync(join(dir, 'signpost.yaml'), CONFIG)
  load = () => loadInputs({ configFile: join(dir, 'signpost.yaml'), zonesDir: dir })
})

type Fakes = {
  plane: ControlPlane
  /** Log levels the plane set, in order. */
  logLevels: string[]
  /** The prober the plane made last, with its options and the health it reports. */
  prober: () => { options: ProberOptions; health: Map<string, TargetHealth> }
  commits: { next: AdminFile; entry: AuditEntry }[]
  events: ControlEvent[]
  /** What happened, in order: commit, publish, follow, synced. */
  steps: string[]
  /** Another instance's change arriving at the admin store. */
  remote: (next: AdminFile, changes: readonly RemoteAdminChange[]) => void
  /** Hands the plane a load reading for `site`, as the poller would. */
  reading: (site: string, reading: LoadReading) => void
}

async function makePlane(options: { commit?: (next: AdminFile) => Promise<void>; load?: () => Promise<LoadResult>; firstRound?: (health: Map<string, TargetHealth>, options: ProberOptions) => Promise<void>; fleet?: Fleet } = {}): Promise<Fakes> {
  const first = await load()
  if (!first.ok) throw new Error(JSON.stringify(first.problems))
  const probers: { options: ProberOptions; health: Map<string, TargetHealth> }[] = []
  const commits: Fakes['commits'] = []
  const steps: string[] = []
  const logLevels: string[] = []
  let file: AdminFile = EMPTY_ADMIN_FILE
  const readings = new Map<string, SiteReadings>()
  let loadOptions: LoadPollerOptions | undefined
  const reading = (site: string, next: LoadReading): void => {
    readings.set(site, { last: next, good: next.ok ? next : readings.get(site)?.good })
    loadOptions?.onReading(site, next)
  }
  const remoteListeners: ((changes: readonly RemoteAdminChange[]) => void)[] = []
  const adminStore: AdminStore = {
    current: () => file,
    async commit(decide) {
      const decided = decide(file)
      if (!decided.ok) return decided
      steps.push('commit')
      await options.commit?.(decided.next)
      commits.push({ next: decided.next, entry: decided.entry })
      file = decided.next
      return decided
    },
    onRemoteChange: (listener) => void remoteListeners.push(listener),
    audit: async () => [],
    close: () => undefined,
  }
  const remote = (next: AdminFile, changes: readonly RemoteAdminChange[]): void => {
    file = next
    for (const listener of remoteListeners) listener(changes)
  }
  let plane: ControlPlane | undefined
  const metrics = createMetrics(() => plane!.store.current, () => undefined, { version: 'test' })
  plane = await createControlPlane({
    inputs: first.inputs,
    load: options.load ?? load,
    adminStore,
    fleet: options.fleet ? { link: options.fleet, identity: () => ({ version: 'test', started: '', zones: [], config: '' }) } : undefined,
    loadPoller: (pollerOptions) => {
      loadOptions = pollerOptions
      return { latest: () => readings, stop: () => undefined }
    },
    prober: (proberOptions): Prober => {
      const health = new Map<string, TargetHealth>(proberOptions.previous)
      probers.push({ options: proberOptions, health })
      return { start: () => options.firstRound?.(health, proberOptions) ?? Promise.resolve(), health: () => health, stop: () => undefined }
    },
    settings: { tokens: new Map(), protectReads: false, logLevel: 'info' },
    readSettings: (config) => readSettings(config, join(dir, 'signpost.yaml'), {}),
    setLogLevel: (level) => logLevels.push(level),
    metrics,
    now: () => NOW,
    logger: pino({ level: 'silent' }),
  })
  const events: ControlEvent[] = []
  plane.control.subscribe((event) => events.push(event))
  return { plane, logLevels, prober: () => probers[probers.length - 1]!, commits, events, steps, remote, reading }
}

/** Replicas that record what they are sent and report synced only when the test says so. */
function fakeReplicas(steps: string[]): Replicas & { followed: Snapshot[]; release: () => void } {
  let pending = deferred()
  const followed: Snapshot[] = []
  return {
    followed,
    follow(snapshot) {
      steps.push('follow')
      followed.push(snapshot)
    },
    async synced() {
      await pending.promise
      steps.push('synced')
    },
    async takeCounts() {
      return []
    },
    release() {
      pending.resolve()
      pending = deferred()
    },
  }
}

const down = (at: number): TargetHealth => ({ state: 'down', against: 0, last: undefined, lastChange: at, history: [], latencyMs: undefined })
const serverTarget = (fakes: Fakes, address: string) => fakes.prober().options.targets.find((t) => t.kind === 'server' && t.address === address)!

describe('start-up', () => {
  it('resolves only after the first probe round, and the first snapshot already has its verdicts', async () => {
    const round = deferred()
    const making = makePlane({
      firstRound: async (health, { targets }) => {
        await round.promise
        for (const target of targets) health.set(target.id, down(1))
      },
    })
    expect(await settled(making)).toBe(false)
    round.resolve()
    const { plane } = await making
    expect(plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
  })
})

describe('health', () => {
  it('a transition publishes a new snapshot at once, which every replica follows', async () => {
    const fakes = await makePlane()
    const replicas = fakeReplicas(fakes.steps)
    fakes.plane.replicateTo(replicas)
    expect(replicas.followed).toEqual([fakes.plane.store.current]) // caught up when attached
    const target = serverTarget(fakes, '192.0.2.10')
    fakes.prober().health.set(target.id, down(NOW.getTime()))
    const transition: Transition = { id: target.id, from: 'up', to: 'down', at: NOW.getTime(), reason: 'refused' }
    fakes.prober().options.onTransitions([transition])
    expect(fakes.plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
    expect(replicas.followed.at(-1)).toBe(fakes.plane.store.current)
    expect(fakes.events).toMatchObject([{ type: 'health', address: '192.0.2.10', to: 'down', at: NOW.toISOString() }])
  })

  it('a name that changes answering mode is sent as a mode event: every server down, then one back', async () => {
    const fakes = await makePlane()
    const transition = (address: string, to: 'up' | 'down'): void => {
      const target = serverTarget(fakes, address)
      fakes.prober().health.set(target.id, to === 'down' ? down(NOW.getTime()) : { ...down(NOW.getTime()), state: 'up' })
      fakes.prober().options.onTransitions([{ id: target.id, from: to === 'down' ? 'up' : 'down', to, at: NOW.getTime(), reason: 'test' }])
    }
    transition('192.0.2.10', 'down')
    expect(fakes.events.filter((e) => e.type === 'mode')).toEqual([])
    transition('198.51.100.10', 'down')
    expect(fakes.events.filter((e) => e.type === 'mode')).toEqual([{ type: 'mode', at: NOW.toISOString(), name: 'www.ctl.test.', family: 'v4', from: 'healthy', reason: 'fail-open', servers: ['192.0.2.10', '198.51.100.10'] }])
    transition('198.51.100.10', 'up')
    expect(fakes.events.filter((e) => e.type === 'mode').at(-1)).toMatchObject({ from: 'fail-open', reason: 'healthy', servers: ['198.51.100.10'] })
  })

  it('keepalived FAULT/STOP on every node of a pair takes the site out at once; MASTER brings it back', async () => {
    const { plane, events } = await makePlane()
    expect(await plane.control.lbEvent({ site: 'tokyo', node: 'tokyo-lb1', state: 'FAULT' })).toEqual({ ok: true, shared: false })
    expect(plane.store.current.gslb.health.get('192.0.2.10')).not.toBe('down')
    await plane.control.lbEvent({ site: 'tokyo', node: 'tokyo-lb2', state: 'STOP' })
    expect(plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
    await plane.control.lbEvent({ site: 'tokyo', node: 'tokyo-lb2', state: 'MASTER' })
    expect(plane.store.current.gslb.health.get('192.0.2.10')).not.toBe('down')
    expect(events.map((e) => e.type)).toEqual(['lb', 'lb', 'lb'])
  })

  it('an event for an unknown site or node is refused and publishes nothing', async () => {
    const { plane, events } = await makePlane()
    const before = plane.store.current
    expect(await plane.control.lbEvent({ site: 'mars', node: 'x', state: 'FAULT' })).toEqual({ ok: false, message: "no site named 'mars'" })
    expect(await plane.control.lbEvent({ site: 'tokyo', node: 'tokyo-lb9', state: 'FAULT' })).toEqual({ ok: false, message: "site tokyo has no LB node named 'tokyo-lb9'" })
    expect(plane.store.current).toBe(before)
    expect(events).toEqual([])
  })
})

describe('operator writes', () => {
  it('are durable before they are visible, and acknowledged only once every replica applied them', async () => {
    const commitGate = deferred()
    const fakes = await makePlane({ commit: () => commitGate.promise })
    const replicas = fakeReplicas(fakes.steps)
    fakes.plane.replicateTo(replicas)
    fakes.steps.length = 0
    const before = fakes.plane.store.current
    const writing = fakes.plane.control.setAdminState({ kind: 'site', site: 'osaka' }, { state: 'drain', reason: 'maintenance' }, 'alice')
    await settled(writing)
    expect(fakes.steps).toEqual(['commit'])
    expect(fakes.plane.store.current).toBe(before) // not visible while it is not durable
    commitGate.resolve()
    expect(await settled(writing)).toBe(false) // published, but the replicas have not applied it
    expect(fakes.steps).toEqual(['commit', 'follow'])
    expect(fakes.plane.store.current.gslb.admin.sites.get('osaka')).toEqual({ state: 'drain', weight: undefined })
    replicas.release()
    expect(await writing).toEqual({ ok: true, target: { kind: 'site', site: 'osaka' }, record: { state: 'drain', weight: undefined, reason: 'maintenance', actor: 'alice', at: NOW.toISOString() } })
    expect(fakes.steps).toEqual(['commit', 'follow', 'synced'])
    expect(fakes.commits).toMatchObject([{ entry: { actor: 'alice', target: 'site osaka', from: null, to: { state: 'drain' }, reason: 'maintenance', at: NOW.toISOString() } }])
    expect(fakes.events).toMatchObject([{ type: 'admin', target: { kind: 'site', site: 'osaka' } }])
  })

  it('a commit that fails changes nothing, and the next write still runs', async () => {
    let fail = true
    const fakes = await makePlane({ commit: async () => (fail ? Promise.reject(new Error('disk full')) : undefined) })
    const before = fakes.plane.store.current
    await expect(fakes.plane.control.setAdminState({ kind: 'server', address: '192.0.2.10' }, { state: 'disabled', reason: 'x' }, 'bob')).rejects.toThrow('disk full')
    expect(fakes.plane.store.current).toBe(before)
    expect(fakes.plane.control.status().servers.find((s) => s.address === '192.0.2.10')?.admin.own).toBeNull()
    fail = false
    expect(await fakes.plane.control.setAdminState({ kind: 'server', address: '192.0.2.10' }, { weight: 7, reason: 'y' }, 'bob')).toMatchObject({ ok: true, record: { state: 'enabled', weight: 7 } })
  })

  it('an unknown target is a 404, a target that is no address a 400; neither commits nor publishes anything', async () => {
    const fakes = await makePlane()
    const before = fakes.plane.store.current
    expect(await fakes.plane.control.setAdminState({ kind: 'server', address: '192.0.2.010' }, { state: 'up', reason: 'x' }, 'bob')).toMatchObject({ ok: false, status: 400 })
    expect(await fakes.plane.control.setAdminState({ kind: 'server', address: '10.9.9.9' }, { state: 'up', reason: 'x' }, 'bob')).toEqual({ ok: false, status: 404, message: "no server (site VIP) with address '10.9.9.9'" })
    expect(await fakes.plane.control.setAdminState({ kind: 'site', site: 'mars' }, { state: 'up', reason: 'x' }, 'bob')).toEqual({ ok: false, status: 404, message: "no site named 'mars'" })
    expect(fakes.steps).toEqual([])
    expect(fakes.plane.store.current).toBe(before)
  })
})

describe('reload', () => {
  it('runs in arrival order with the other writes: a write sent during a reload waits for it', async () => {
    const loading = deferred()
    const fakes = await makePlane({
      load: async () => {
        await loading.promise
        return load()
      },
    })
    const reloading = fakes.plane.control.reload()
    const writing = fakes.plane.control.setAdminState({ kind: 'site', site: 'tokyo' }, { state: 'drain', reason: 'x' }, 'alice')
    await settled(writing)
    expect(fakes.steps).toEqual([]) // the admin write has not started
    loading.resolve()
    expect(await reloading).toMatchObject({ ok: true, zones: [{ name: 'ctl.test.', serial: 1 }] })
    expect(await writing).toMatchObject({ ok: true })
    expect(fakes.events.map((e) => e.type)).toEqual(['reload', 'admin'])
  })

  it('a rejected reload changes nothing and publishes nothing; its event names the problems', async () => {
    const fakes = await makePlane()
    const before = fakes.plane.store.current
    writeFileSync(join(dir, 'signpost.yaml'), CONFIG.replace('policy: all', 'policy: sideways'))
    const result = await fakes.plane.control.reload()
    expect(result).toMatchObject({ ok: false, zones: [{ name: 'ctl.test.', serial: 1 }] })
    expect(result.ok ? [] : result.problems).toMatchObject([{ code: 'config', file: join(dir, 'signpost.yaml') }])
    expect(fakes.plane.store.current).toBe(before)
    expect(fakes.events).toMatchObject([{ type: 'reload-rejected', at: NOW.toISOString(), problems: [expect.stringContaining(`${join(dir, 'signpost.yaml')}:`)] }])
  })

  it('a good reload publishes the new zones, keeps health verdicts and re-probes the new targets', async () => {
    const fakes = await makePlane()
    const target = serverTarget(fakes, '192.0.2.10')
    fakes.prober().health.set(target.id, down(1))
    fakes.prober().options.onTransitions([{ id: target.id, from: 'up', to: 'down', at: 1, reason: 'refused' }])
    writeFileSync(join(dir, 'ctl.test.zone'), ZONE.replace('hostmaster 1', 'hostmaster 2'))
    expect(await fakes.plane.control.reload()).toMatchObject({ ok: true, changes: { serials: [{ zone: 'ctl.test.', from: 1, to: 2 }] } })
    expect(fakes.prober().options.previous.get(target.id)?.state).toBe('down')
    expect(fakes.plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
    expect([...fakes.plane.store.current.zones.byKey.values()].map((z) => z.serial)).toEqual([2])
  })
})

describe('reload of server settings', () => {
  it('applies tokens (read again from the tokens file), protect_reads and the log level at once', async () => {
    const fakes = await makePlane()
    writeFileSync(join(dir, 'tokens'), 'ops  s3cret\n')
    writeFileSync(join(dir, 'signpost.yaml'), `${CONFIG}admin: { tokens_file: tokens, protect_reads: true }\nlog: { level: debug }\n`)
    expect(await fakes.plane.control.reload()).toMatchObject({ ok: true })
    expect(fakes.plane.control.settings()).toEqual({ tokens: new Map([['ops', { token: 's3cret', role: 'admin' }]]), protectReads: true, logLevel: 'debug' })
    expect(fakes.logLevels).toEqual(['debug'])
  })

  it.each([
    ['listen', 'listen: [127.0.0.1:5300]\n', 'listen (the DNS listen addresses)'],
    ['admin.state_file', 'admin: { state_file: elsewhere.json }\n', 'admin.state_file (the admin state file)'],
    ['tcp', 'tcp: { max_per_client: 4 }\n', 'tcp (the TCP limits)'],
    ['workers', 'workers: 3\n', 'workers (the DNS worker threads)'],
  ])('refuses a reload that changes %s, which is read only at start, naming it with its line; nothing changes', async (_key, added, named) => {
    const fakes = await makePlane()
    const before = fakes.plane.store.current
    writeFileSync(join(dir, 'signpost.yaml'), CONFIG + added)
    const result = await fakes.plane.control.reload()
    expect(result.ok).toBe(false)
    expect(result.ok ? [] : result.problems).toEqual([{ code: 'config', file: join(dir, 'signpost.yaml'), line: 8, message: `${named} is read only at start: restart Signpost to change it; nothing was reloaded` }])
    expect(fakes.plane.store.current).toBe(before)
    expect(fakes.logLevels).toEqual([])
  })

  it('refuses a reload whose tokens file cannot be read, and keeps the tokens it has', async () => {
    const fakes = await makePlane()
    writeFileSync(join(dir, 'signpost.yaml'), `${CONFIG}admin: { tokens_file: missing-tokens }\n`)
    const result = await fakes.plane.control.reload()
    expect(result.ok ? [] : result.problems).toMatchObject([{ code: 'config', message: expect.stringContaining(`cannot read admin.tokens_file ${join(dir, 'missing-tokens')}`) }])
    expect(fakes.plane.control.settings().tokens.size).toBe(0)
  })
})

/** The fleet as the control plane sees it, with peers' verdicts and the link set by the test. */
function fakeFleet(): Fleet & { peers: Map<string, Map<string, Verdict>>; setLink(connected: boolean): void; published: Map<string, Verdict>[]; lb: Map<string, LbRecord> } {
  const listeners: (() => void)[] = []
  let link: FleetLink = { connected: true, problem: undefined, since: NOW.toISOString() }
  const peers = new Map<string, Map<string, Verdict>>()
  const published: Map<string, Verdict>[] = []
  const lb = new Map<string, LbRecord>()
  return {
    instance: 'ns1',
    adminStore: undefined as never,
    peers,
    published,
    lb,
    setLink(connected) {
      link = { connected, problem: connected ? undefined : 'etcd: no leader', since: NOW.toISOString() }
      listeners.forEach((l) => l())
    },
    link: () => link,
    peerVerdicts: () => (link.connected ? peers : new Map()),
    publishVerdicts: (verdicts) => void published.push(new Map(verdicts)),
    lbEvents: () => lb,
    shareLbEvent: async () => undefined,
    members: () => [],
    setIdentity: () => undefined,
    onChange: (listener) => void listeners.push(listener),
    ready: async () => true,
    writes: () => 0,
    close: async () => undefined,
  }
}

describe('in a fleet', () => {
  const up: TargetHealth = { state: 'up', against: 0, last: undefined, lastChange: 1, history: [], latencyMs: undefined }
  const peerSays = (state: 'up' | 'down'): Verdict => ({ state, since: null, reason: state === 'up' ? 'ok' : 'timeout', target: { kind: 'server', address: '192.0.2.10', site: 'tokyo', node: undefined } })

  it('peers\' verdicts decide by the fleet rule; with the link lost, this instance\'s own verdicts decide', async () => {
    const fleet = fakeFleet()
    const fakes = await makePlane({ fleet, firstRound: async (health, { targets }) => void targets.forEach((t) => health.set(t.id, up)) })
    const tokyo = serverTarget(fakes, '192.0.2.10')
    expect(fleet.published.at(-1)?.get(targetKey(tokyo))).toMatchObject({ state: 'up' })
    // Two peers say down: two of three is a majority.
    fleet.peers.set(targetKey(tokyo), new Map([['ns2', peerSays('down')], ['ns3', peerSays('down')]]))
    fleet.setLink(true)
    expect(fakes.plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
    const status = fakes.plane.control.status()
    expect(status.fleet).toMatchObject({ instance: 'ns1', connected: true, rule: 'majority' })
    expect(status.servers.find((s) => s.address === '192.0.2.10')?.fleet?.summary).toBe('down at ns2: timeout; down at ns3: timeout; up at ns1 → fleet: down')
    fleet.setLink(false)
    expect(fakes.plane.store.current.gslb.health.get('192.0.2.10')).toBe('up')
    expect(fakes.plane.control.status().fleet).toMatchObject({ connected: false, problem: 'etcd: no leader', verdicts: 'own (etcd away)' })
  })

  it('another instance\'s admin change is published at once and emitted with the instance that took it', async () => {
    const fakes = await makePlane({ fleet: fakeFleet() })
    const record = { state: 'disabled' as const, weight: undefined, reason: 'at ns2', actor: 'ops', at: NOW.toISOString() }
    fakes.remote({ servers: {}, sites: { osaka: record } }, [{ target: { kind: 'site', site: 'osaka' }, record, instance: 'ns2' }])
    expect(fakes.plane.store.current.gslb.admin.sites.get('osaka')?.state).toBe('disabled')
    expect(fakes.events).toMatchObject([{ type: 'admin', target: { kind: 'site', site: 'osaka' }, instance: 'ns2' }])
  })

  it('a keepalived event shared by another instance counts like one posted here (the newer wins)', async () => {
    const fleet = fakeFleet()
    const fakes = await makePlane({ fleet })
    fleet.lb.set('tokyo/tokyo-lb1', { state: 'FAULT', at: NOW.toISOString(), instance: 'ns2' })
    fleet.lb.set('tokyo/tokyo-lb2', { state: 'STOP', at: NOW.toISOString(), instance: 'ns2' })
    fleet.setLink(true)
    expect(fakes.plane.store.current.gslb.health.get('192.0.2.10')).toBe('down')
  })
})

describe('load', () => {
  const LOAD_CONFIG = CONFIG.replace('check: web, lb_pair', 'check: web, load: { type: http_json, url: "http://127.0.0.1:9/load", interval_ms: 1000 }, lb_pair').replace('{ policy: all }', '{ policy: all, load: { mode: shed } }')
  const at = NOW.getTime()
  const good = (utilisation: number, when = at): LoadReading => ({ ok: true, utilisation, at: when, from: 'test' })

  it('a site above shed_above leaves the answers of a shed-mode name, with an event; below return_below it is back', async () => {
    writeFileSync(join(dir, 'signpost.yaml'), LOAD_CONFIG)
    const fakes = await makePlane()
    const answering = () => fakes.plane.store.current.gslb.tables.values().next().value!.v4!.servers.map((s) => s.address)
    expect(answering()).toEqual(['192.0.2.10', '198.51.100.10'])
    fakes.reading('tokyo', good(0.95))
    expect(answering()).toEqual(['198.51.100.10'])
    expect(fakes.plane.control.status().names[0]?.v4).toMatchObject({ reason: 'healthy', answering: ['198.51.100.10'], shed: ['tokyo'] })
    expect(fakes.events).toMatchObject([{ type: 'load', name: 'www.ctl.test.', site: 'tokyo', shedding: true, utilisation: 0.95 }])
    fakes.reading('tokyo', good(0.8))
    expect(answering()).toEqual(['198.51.100.10'])
    fakes.reading('tokyo', good(0.5))
    expect(answering()).toEqual(['192.0.2.10', '198.51.100.10'])
    expect(fakes.events.map((e) => e['shedding'])).toEqual([true, false])
    // A reading that changes no answer makes no snapshot (a snapshot rebuilds tables and empties the name caches).
    const quiet = fakes.plane.store.current
    fakes.reading('tokyo', good(0.55))
    expect(fakes.plane.store.current).toBe(quiet)
    const status = fakes.plane.control.status()
    expect(status.sites.find((s) => s.name === 'tokyo')?.load).toMatchObject({ utilisation: 0.55, stale: false, shedding: [] })
    expect(status.names[0]).toMatchObject({ load: 'shed', v4: { shed: [] } })
  })

  it('a failed read keeps the last good reading until it is stale (3 intervals); then the site answers as without load', async () => {
    writeFileSync(join(dir, 'signpost.yaml'), LOAD_CONFIG)
    const fakes = await makePlane()
    const answering = () => fakes.plane.store.current.gslb.tables.values().next().value!.v4!.servers.map((s) => s.address)
    fakes.reading('tokyo', good(0.95, at - 2500))
    expect(answering()).toEqual(['198.51.100.10'])
    fakes.reading('tokyo', { ok: false, at, from: 'test', problem: 'ECONNREFUSED' })
    expect(answering()).toEqual(['198.51.100.10'])
    fakes.reading('tokyo', good(0.95, at - 3500))
    expect(answering()).toEqual(['192.0.2.10', '198.51.100.10'])
    expect(fakes.plane.control.status().sites.find((s) => s.name === 'tokyo')?.load).toMatchObject({ utilisation: null, stale: true })
  })

  it('under scale, status shows the weight the answers use beside the configured one', async () => {
    writeFileSync(join(dir, 'signpost.yaml'), LOAD_CONFIG.replace('load: { mode: shed }', 'load: { mode: scale, floor: 0.1 }'))
    const fakes = await makePlane()
    fakes.reading('tokyo', good(0.75))
    expect(fakes.plane.control.status().names[0]?.servers.map((s) => [s.site, s.weight, 'loadWeight' in s ? s.loadWeight : undefined])).toEqual([['tokyo', 1, 0.25], ['osaka', 1, 1]])
    // Under scale, a new snapshot only when the headroom moves by a step (5%).
    const before = fakes.plane.store.current
    fakes.reading('tokyo', good(0.76))
    expect(fakes.plane.store.current).toBe(before)
    fakes.reading('tokyo', good(0.8))
    expect(fakes.plane.store.current).not.toBe(before)
  })
})
