// End to end on real parts (test/lab/lab.ts): keepalived LB pairs, haproxy, Knot as the registrar,
// unbound as the client's resolver, two delegated Signpost instances and a third vantage point
// sharing a 3-member etcd cluster. Each scenario logs what it measured.
// Runs as root only (network namespaces); otherwise skipped with the reason.

import { execFileSync, spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, currentDs, rootHints, digFromClient, down, KEYS_DIR, reloadRegistrar, writeTestZone, ensureLabPackages, etcdHealthy, etcdLeader, etcdNamespace, ETCD, inNamespace, isRoot, lbNamespace, backendNamespace, NS1, NS2, NS3, SITE_SESSIONS, SITES, siteView, startBackend, startEtcdMember, until, up } from './lab.ts'
import { runSignpost } from '../support/process.ts'

const [TOKYO, OSAKA, FRANKFURT] = SITES as [(typeof SITES)[number], (typeof SITES)[number], (typeof SITES)[number]]
const ALL_VIPS = SITES.map((s) => s.vip).sort()
/** README's bound for a dead VIP to leave the answers at the defaults: interval × fall + timeout + 0.5 s. */
const WITHDRAWAL_BOUND_MS = 1000 * 2 + 800 + 500
/** The lab's GSLB TTL: how long unbound may keep an old answer. */
const TTL_MS = 5000
const timings: Record<string, number> = {}

function record(what: string, measured: number): void {
  const ms = Math.round(measured)
  timings[what] = ms
  console.log(`lab timing: ${what}: ${ms} ms`)
}

const setLink = (ns: string, state: 'up' | 'down'): Promise<string> => inNamespace(ns, 'ip', ['link', 'set', 'eth0', state])
const hasVip = async (ns: string, vip: string): Promise<boolean> => (await inNamespace(ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).includes(`${vip}/`)

/** Checks `check` every 100 ms for `ms`; fails at the first miss. */
async function holds(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    expect(await check(), what).toBe(true)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** An answer through unbound, which validates from test.'s key down through our DS: rcode, AD, A addresses. */
async function validated(name: string, type = 'A'): Promise<{ status: string; ad: boolean; addresses: string[] }> {
  const out = await inNamespace('lab-client', 'dig', ['+time=2', '+tries=1', '+dnssec', '@127.0.0.1', name, type])
  const flags = (/;; flags: ([^;]*);/.exec(out)?.[1] ?? '').trim().split(/\s+/)
  const addresses = out.split('\n').filter((l) => /\sIN\s+A\s/.test(l) && !l.startsWith(';')).map((l) => l.trim().split(/\s+/)[4] as string).sort()
  return { status: /status: (\w+)/.exec(out)?.[1] ?? '', ad: flags.includes('ad'), addresses }
}

/** The answers a signed zone must keep validating: static, GSLB, nonexistent name, nonexistent type. */
const SIGNED_QUERIES: readonly [string, string][] = [['ns1.example.test', 'A'], ['www.example.test', 'A'], ['nothing.example.test', 'A'], ['www.example.test', 'TXT']]

async function allValidate(): Promise<boolean> {
  const results = await Promise.all(SIGNED_QUERIES.map(([name, type]) => validated(name, type)))
  return results.every((r) => r.ad && (r.status === 'NOERROR' || r.status === 'NXDOMAIN'))
}

function killNamespace(ns: string): void {
  for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL')
}

describe.skipIf(!isRoot())('multi-site lab (network namespaces; needs root)', () => {
  beforeAll(async () => {
    ensureLabPackages()
    await up()
  }, 240_000)

  afterAll(() => {
    down()
    console.log(`lab timings (ms): ${JSON.stringify(timings)}`)
  })

  it('1. delegation: unbound resolves www.example.test through the lab root to a VIP; ns1 and ns2 answer with AA and agree on SOA and NS', async () => {
    const viaResolver = await digFromClient('127.0.0.1', 'www.example.test')
    expect(viaResolver.length).toBeGreaterThan(0)
    for (const address of viaResolver) expect(ALL_VIPS).toContain(address)
    const views = await Promise.all([NS1, NS2].map(async (server) => ({
      flags: /;; flags: ([a-z ]+);/.exec(await inNamespace('lab-client', 'dig', [`@${server}`, 'www.example.test', 'A']))?.[1] ?? '',
      soa: await inNamespace('lab-client', 'dig', ['+short', `@${server}`, 'example.test', 'SOA']),
      ns: (await inNamespace('lab-client', 'dig', ['+short', `@${server}`, 'example.test', 'NS'])).split('\n').sort().join(' '),
    })))
    for (const view of views) expect(view.flags.split(' ')).toContain('aa')
    expect(views[0]!.soa).toBe(views[1]!.soa)
    expect(views[0]!.ns).toBe(views[1]!.ns)
    expect(views[0]!.ns).toBe(' ns1.example.test. ns2.example.test.')
  })

  it('2. a backend dies: its site stays in the answers (haproxy sends requests to the other backend)', async () => {
    killNamespace(backendNamespace(TOKYO, 0))
    await holds(async () => (await digFromClient(NS1, 'www.example.test')).includes(TOKYO.vip), 4000, 'tokyo stays answered at ns1')
    expect((await inNamespace('lab-client', 'curl', ['-fsS', '--max-time', '2', `http://${TOKYO.vip}/`])).trim()).toBe('tokyo-be2')
    startBackend(TOKYO, 0)
  })

  it('3. the MASTER LB of a site dies: VRRP moves the VIP to the BACKUP, the site stays answered, status shows the pair degraded', async () => {
    const started = Date.now()
    await setLink(lbNamespace(TOKYO, 0), 'down')
    const answered = holds(async () => (await digFromClient(NS1, 'www.example.test')).includes(TOKYO.vip), 5000, 'tokyo stays answered while its VIP moves')
    record('VRRP: MASTER link down → VIP on the BACKUP', await until(() => hasVip(lbNamespace(TOKYO, 1), TOKYO.vip), 10_000, 'VIP moves to tokyo-lb2'))
    await until(async () => (await inNamespace('lab-client', 'curl', ['-fsS', '--max-time', '1', `http://${TOKYO.vip}/`])).includes('tokyo'), 10_000, 'VIP answers')
    record('VRRP: MASTER link down → VIP answers HTTP again', Date.now() - started)
    await answered
    for (const server of [NS1, NS2]) {
      await until(async () => (await siteView(server, 'tokyo')).lbPair.degraded, 10_000, `${server} shows tokyo's pair degraded`)
      const view = await siteView(server, 'tokyo')
      expect(view.vips[0]!.health).toBe('up')
      expect(view.lbPair.nodes.map((n) => [n.name, n.probe, n.keepalived])).toEqual([['tokyo-lb1', 'down', 'MASTER'], ['tokyo-lb2', 'up', 'MASTER']])
    }
    // Back to normal: tokyo-lb1 returns and takes the VIP back (it has the higher priority).
    await setLink(lbNamespace(TOKYO, 0), 'up')
    for (const server of [NS1, NS2]) await until(async () => !(await siteView(server, 'tokyo')).lbPair.degraded, 15_000, `${server}: tokyo's pair whole again`)
  })

  it('4 and 6. a whole site dies: its VIP leaves ns1 and ns2 within the bound and unbound after the TTL; it returns after rise, with no manual step', async () => {
    const killedAt = Date.now()
    await Promise.all([setLink(lbNamespace(OSAKA, 0), 'down'), setLink(lbNamespace(OSAKA, 1), 'down')])
    const gone = async (server: string): Promise<boolean> => {
      const answer = await digFromClient(server, 'www.example.test')
      return answer.length > 0 && !answer.includes(OSAKA.vip)
    }
    const [ns1Ms, ns2Ms] = await Promise.all([NS1, NS2].map((server) => until(() => gone(server), 10_000, `osaka leaves ${server}`)))
    record('site down → withdrawn at ns1', ns1Ms!)
    record('site down → withdrawn at ns2', ns2Ms!)
    expect(Math.max(ns1Ms!, ns2Ms!)).toBeLessThanOrEqual(WITHDRAWAL_BOUND_MS)
    await until(() => gone('127.0.0.1'), WITHDRAWAL_BOUND_MS + TTL_MS + 2000, 'osaka leaves the answers through unbound')
    record('site down → gone from unbound answers', Date.now() - killedAt)
    expect(await digFromClient('127.0.0.1', 'www.example.test')).toEqual([TOKYO.vip, FRANKFURT.vip].sort())

    const restored = Date.now()
    await Promise.all([setLink(lbNamespace(OSAKA, 0), 'up'), setLink(lbNamespace(OSAKA, 1), 'up')])
    const back = async (server: string): Promise<boolean> => (await digFromClient(server, 'www.example.test')).includes(OSAKA.vip)
    const [backNs1, backNs2] = await Promise.all([NS1, NS2].map((server) => until(() => back(server), 15_000, `osaka returns at ${server}`)))
    record('site back → answered again at ns1 (failback)', backNs1!)
    record('site back → answered again at ns2 (failback)', backNs2!)
    await until(() => back('127.0.0.1'), TTL_MS + 2000, 'osaka returns through unbound')
    record('site back → in unbound answers', Date.now() - restored)
  })

  it('5. an operator disables a site through ns1 only: out of both name servers\' answers; enabled through ns2: back at both', async () => {
    const disabled = Date.now()
    await admin(NS1, 'PUT', '/v1/sites/frankfurt/state', { state: 'disabled', reason: 'lab scenario 5' })
    expect(await digFromClient(NS1, 'www.example.test')).toEqual([TOKYO.vip, OSAKA.vip].sort())
    await until(async () => JSON.stringify(await digFromClient(NS2, 'www.example.test')) === JSON.stringify([TOKYO.vip, OSAKA.vip].sort()), 2000, 'ns2 follows ns1')
    record('admin write at ns1 → in ns2 answers (through etcd)', Date.now() - disabled)
    await admin(NS2, 'PUT', '/v1/sites/frankfurt/state', { state: 'enabled', reason: 'lab scenario 5 done' })
    await until(async () => JSON.stringify(await digFromClient(NS1, 'www.example.test')) === JSON.stringify(ALL_VIPS), 2000, 'ns1 follows ns2')
    expect(await digFromClient(NS2, 'www.example.test')).toEqual(ALL_VIPS)
    const history = (await admin(NS3, 'GET', '/v1/audit?limit=2')) as { entries: { reason: string; instance: string }[] }
    expect(history.entries.map((e) => [e.reason, e.instance])).toEqual([['lab scenario 5', 'ns1'], ['lab scenario 5 done', 'ns2']])
  })

  it('7. nearest site with EDNS Client Subnet: London → frankfurt, a Japanese network → tokyo', async () => {
    for (const server of [NS1, NS2]) {
      expect(await digFromClient(server, 'geo.example.test', ['+subnet=81.2.69.142/32'])).toEqual([FRANKFURT.vip])
      expect(await digFromClient(server, 'geo.example.test', ['+subnet=2001:218::/32'])).toEqual([TOKYO.vip])
    }
  })

  it('8. ns1 is cut off from frankfurt only: ns2 and ns3 still reach it, so by majority it stays in every answer', async () => {
    const cut = [FRANKFURT.vip, ...FRANKFURT.lbs]
    for (const address of cut) await inNamespace('lab-ns1', 'ip', ['route', 'add', 'blackhole', `${address}/32`])
    try {
      type Server = { address: string; fleet: { verdict: string; summary: string; vantagePoints: { instance: string; state: string }[] } }
      const frankfurtAt = async (server: string) => ((await admin(server, 'GET', '/v1/status')) as { servers: Server[] }).servers.find((s) => s.address === FRANKFURT.vip)!
      await until(async () => (await frankfurtAt(NS1)).fleet.vantagePoints.find((p) => p.instance === 'ns1')?.state === 'down', 10_000, 'ns1 sees frankfurt down')
      const view = (await frankfurtAt(NS2)).fleet
      expect(view.verdict).toBe('up')
      expect(view.vantagePoints.map((p) => [p.instance, p.state])).toEqual([['ns2', 'up'], ['ns1', 'down'], ['ns3', 'up']])
      console.log(`lab: ${view.summary}`)
      await holds(async () => (await digFromClient(NS1, 'www.example.test')).includes(FRANKFURT.vip) && (await digFromClient(NS2, 'www.example.test')).includes(FRANKFURT.vip), 3000, 'frankfurt stays answered at ns1 and ns2')
    } finally {
      for (const address of cut) await inNamespace('lab-ns1', 'ip', ['route', 'del', 'blackhole', `${address}/32`])
    }
  })

  it('9. the etcd leader is killed during a burst of writes: every write that got 200 is in the fleet history once, and writes resume', async () => {
    const leader = await etcdLeader()
    const acked: number[] = []
    const at: number[] = []
    for (let i = 0; i < 40; i++) {
      if (i === 10) killNamespace(etcdNamespace(leader))
      const reply = await inNamespace('lab-client', 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-X', 'PUT', `http://${NS1}:8053/v1/sites/tokyo/weight`, '-H', 'Authorization: Bearer lab-token', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ weight: i + 1, reason: `burst ${i}` })])
      if (reply === '200') {
        acked.push(i)
        at.push(Date.now())
      } else expect(reply).toBe('503')
    }
    let gap = 0
    for (let k = 1; k < at.length; k++) gap = Math.max(gap, at[k]! - at[k - 1]!)
    record('etcd leader killed mid-burst: longest gap between acknowledged writes', gap)
    expect(acked).toContain(39)
    const history = ((await admin(NS2, 'GET', '/v1/audit?limit=100')) as { entries: { reason: string }[] }).entries
    for (const i of acked) expect(history.filter((e) => e.reason === `burst ${i}`)).toHaveLength(1)
    startEtcdMember(leader)
    await until(etcdHealthy, 20_000, 'etcd whole again')
    await admin(NS1, 'PUT', '/v1/sites/tokyo/weight', { weight: 1, reason: 'lab scenario 9 done' })
  })

  it('10. etcd stops entirely: ns1 and ns2 keep answering (also through unbound), writes get 503; etcd back: they converge', async () => {
    ETCD.forEach((_address, i) => killNamespace(etcdNamespace(i)))
    try {
      for (const server of [NS1, NS2]) await until(async () => ((await admin(server, 'GET', '/v1/status')) as { fleet: { connected: boolean } }).fleet.connected === false, 15_000, `${server} sees etcd gone`)
      for (const server of [NS1, NS2]) expect(await digFromClient(server, 'www.example.test')).toEqual(ALL_VIPS)
      expect((await digFromClient('127.0.0.1', 'www.example.test')).length).toBeGreaterThan(0)
      const refused = await inNamespace('lab-client', 'curl', ['-sS', '--max-time', '5', '-X', 'PUT', `http://${NS1}:8053/v1/sites/osaka/state`, '-H', 'Authorization: Bearer lab-token', '-H', 'Content-Type: application/json', '-d', '{"state":"disabled","reason":"during the outage"}', '-w', ' %{http_code}'])
      expect(refused).toMatch(/"error":"etcd: unreachable.* 503$/)
    } finally {
      ETCD.forEach((_address, i) => startEtcdMember(i))
    }
    await until(etcdHealthy, 30_000, 'etcd back')
    for (const server of [NS1, NS2]) await until(async () => ((await admin(server, 'GET', '/v1/status')) as { fleet: { connected: boolean } }).fleet.connected, 15_000, `${server} reconnected`)
    await admin(NS2, 'PUT', '/v1/sites/osaka/state', { state: 'disabled', reason: 'lab scenario 10' })
    await until(async () => !(await digFromClient(NS1, 'www.example.test')).includes(OSAKA.vip), 2000, 'ns1 follows ns2 after the outage')
    await admin(NS1, 'PUT', '/v1/sites/osaka/state', { state: 'enabled', reason: 'lab scenario 10 done' })
  })

  it('11. tokyo\'s HAProxy fills to its session limit: its share of answers falls to ≤ 10% within 5 s, and comes back when the load stops', async () => {
    const share = async (): Promise<number> => {
      let first = 0
      const QUERIES = 12
      for (let i = 0; i < QUERIES; i++) if ((await inNamespace('lab-client', 'dig', ['+short', '+time=1', '+tries=1', `@${NS1}`, 'www.example.test', 'A'])).split('\n')[0] === TOKYO.vip) first++
      return first / QUERIES
    }
    const series: string[] = []
    const sample = async (phase: string, started: number): Promise<number> => {
      const value = await share()
      series.push(`${phase} +${((Date.now() - started) / 1000).toFixed(1)} s: ${(value * 100).toFixed(0)}%`)
      return value
    }
    const before = await sample('idle', Date.now())
    expect(before).toBeGreaterThan(0.2)
    // A bounded load: 30 clients in the client namespace, each holding a session on /slow for up to 9 s.
    const load = spawn('ip', ['netns', 'exec', 'lab-client', 'sh', '-c', `for i in $(seq 30); do curl -s -o /dev/null --max-time 9 http://${TOKYO.vip}/slow & done; wait`], { detached: true, stdio: 'ignore' })
    const loadedAt = Date.now()
    try {
      const shed = await until(async () => (await sample('loaded', loadedAt)) <= 0.1, 5000, 'tokyo\'s share falls to 10%')
      record('HAProxy full → tokyo\'s share of answers ≤ 10%', shed)
      await holds(async () => (await sample('loaded', loadedAt)) <= 0.1, 2000, 'tokyo stays out while its HAProxy is full')
      const view = (await admin(NS1, 'GET', '/v1/sites/tokyo')) as { load: { utilisation: number; haproxy: { sessions: number; limit: number }; shedding: string[] } }
      expect(view.load.haproxy.limit).toBe(SITE_SESSIONS)
      expect(view.load.shedding).toEqual(['www.example.test.'])
      // ns2 reads the same HAProxy and decides the same.
      expect(await digFromClient(NS2, 'www.example.test')).not.toContain(TOKYO.vip)
    } finally {
      process.kill(-load.pid!, 'SIGKILL')
    }
    const stoppedAt = Date.now()
    record('load stops → tokyo answered again', await until(async () => (await sample('stopped', stoppedAt)) > 0.2, 10_000, 'tokyo\'s share returns'))
    console.log(`lab: tokyo's share of first answers over time: ${series.join(', ')}`)
  })

  it('12. frankfurt is checked by ICMP only: with both its LB links down it leaves the answers; links up, it returns', async () => {
    await Promise.all([setLink(lbNamespace(FRANKFURT, 0), 'down'), setLink(lbNamespace(FRANKFURT, 1), 'down')])
    try {
      const gone = async (server: string) => !(await digFromClient(server, 'www.example.test')).includes(FRANKFURT.vip)
      const [ns1Ms, ns2Ms] = await Promise.all([NS1, NS2].map((server) => until(() => gone(server), 10_000, `frankfurt leaves ${server}`)))
      record('ICMP: links down → frankfurt withdrawn at ns1', ns1Ms!)
      record('ICMP: links down → frankfurt withdrawn at ns2', ns2Ms!)
      // The fleet's majority can withdraw it a probe before ns1's own echo replies go stale.
      const lastProbe = async () => ((await admin(NS1, 'GET', `/v1/servers/${FRANKFURT.vip}`)) as { lastProbe: { ok: boolean; detail?: string } }).lastProbe
      await until(async () => !(await lastProbe()).ok, 5000, 'ns1\'s own ICMP probe fails')
      expect((await lastProbe()).detail).toContain('no echo reply')
    } finally {
      await Promise.all([setLink(lbNamespace(FRANKFURT, 0), 'up'), setLink(lbNamespace(FRANKFURT, 1), 'up')])
    }
    const upAt = Date.now()
    await until(async () => (await digFromClient(NS1, 'www.example.test')).includes(FRANKFURT.vip), 15_000, 'frankfurt back by ICMP')
    record('ICMP: links up → frankfurt answered again', Date.now() - upAt)
  })

  it('13. DNSSEC: test. holds our DS; unbound validates (AD) static and GSLB names, NXDOMAIN and NODATA, and the GSLB name again after a VIP died', async () => {
    for (const [name, type] of SIGNED_QUERIES) {
      const result = await validated(name, type)
      expect(result.ad, `${name} ${type}: ${result.status}`).toBe(true)
    }
    expect((await validated('www.example.test')).addresses).toEqual(ALL_VIPS)
    await Promise.all([setLink(lbNamespace(OSAKA, 0), 'down'), setLink(lbNamespace(OSAKA, 1), 'down')])
    try {
      const diedAt = Date.now()
      await until(async () => {
        const result = await validated('www.example.test')
        return result.ad && result.addresses.length > 0 && !result.addresses.includes(OSAKA.vip)
      }, WITHDRAWAL_BOUND_MS + TTL_MS + 3000, 'osaka leaves the validated answer')
      record('DNSSEC: site down → gone from validated unbound answers', Date.now() - diedAt)
    } finally {
      await Promise.all([setLink(lbNamespace(OSAKA, 0), 'up'), setLink(lbNamespace(OSAKA, 1), 'up')])
    }
    await until(async () => (await validated('www.example.test')).addresses.length === ALL_VIPS.length, 30_000, 'osaka back')
  })

  it('14. a CSK roll as the README does it (new key, new DS at the registrar, old key retired and deleted) with unbound validating every answer throughout', async () => {
    const reloadAll = () => Promise.all([NS1, NS2, NS3].map((server) => admin(server, 'POST', '/v1/reload')))
    const dnskeys = async (): Promise<number> => (await inNamespace('lab-client', 'dig', ['+short', `@${NS1}`, 'example.test', 'DNSKEY'])).split('\n').filter(Boolean).length
    const [oldDs] = currentDs()
    const oldTag = (oldDs as string).split(' ')[3] as string
    let checks = 0
    let failures = 0
    let watching = true
    const watcher = (async () => {
      while (watching) {
        if (!(await allValidate())) failures++
        checks++
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    try {
      const started = Date.now()
      // 1. A new CSK, published and signing now beside the old one (both sign every RRset).
      runSignpost(['keys', 'new', 'example.test', '--dir', KEYS_DIR])
      await reloadAll()
      expect(await dnskeys()).toBe(2)
      // 2. The registrar gets the new DS (beside the old one); wait out the DS and DNSKEY TTLs (5 s here).
      writeTestZone(currentDs())
      await reloadRegistrar()
      await new Promise((r) => setTimeout(r, 6000))
      // 3. The old key stops signing now and leaves the DNSKEY RRset in 5 s; the registrar drops its DS.
      const oldFile = `Kexample.test.+013+${oldTag.padStart(5, '0')}`
      execFileSync('dnssec-settime', ['-I', 'now', '-D', 'now+5', '-K', KEYS_DIR, oldFile], { stdio: 'ignore' })
      await reloadAll()
      writeTestZone(currentDs().filter((ds) => ds.split(' ')[3] !== oldTag))
      await reloadRegistrar()
      await until(async () => (await dnskeys()) === 1, 15_000, 'the old DNSKEY is deleted')
      await new Promise((r) => setTimeout(r, 6000))
      record('DNSSEC: CSK roll, start to old key gone', Date.now() - started)
    } finally {
      watching = false
      await watcher
    }
    console.log(`lab: key roll: ${checks} rounds of ${SIGNED_QUERIES.length} validated queries, ${failures} failed`)
    expect(checks).toBeGreaterThan(20)
    expect(failures).toBe(0)
    expect(await allValidate()).toBe(true)
  })

  it('15. Zonemaster\'s DNSSEC test cases find nothing above INFO in example.test (through the lab root)', async () => {
    const out = await inNamespace('lab-client', 'zonemaster-cli', ['--no-ipv6', '--hints', rootHints(), '--test', 'DNSSEC', '--level', 'INFO', '--show-testcase', 'example.test'], 120_000)
    const messages = out.split('\n').filter((line) => /^\s*\d+\.\d+\s+[A-Z]+\s+/.test(line))
    console.log(`lab: zonemaster DNSSEC:\n${messages.join('\n')}`)
    expect(messages.some((line) => /DNSSEC05/.test(line))).toBe(true)
    expect(messages.filter((line) => !/^\s*\d+\.\d+\s+INFO\s/.test(line))).toEqual([])
  })
})
