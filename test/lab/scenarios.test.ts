// End to end on real parts (test/lab/lab.ts): keepalived LB pairs, haproxy, Knot as the registrar,
// unbound as the client's resolver, two Signpost instances. Each scenario logs what it measured.
// Runs as root only (network namespaces); otherwise skipped with the reason.

import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, digFromClient, down, ensureLabPackages, inNamespace, isRoot, lbNamespace, backendNamespace, NS1, NS2, SITES, siteView, startBackend, until, up } from './lab.ts'

const [TOKYO, OSAKA, FRANKFURT] = SITES as [(typeof SITES)[number], (typeof SITES)[number], (typeof SITES)[number]]
const ALL_VIPS = SITES.map((s) => s.vip).sort()
/** README's bound for a dead VIP to leave the answers at the defaults: interval × fall + timeout + 0.5 s. */
const WITHDRAWAL_BOUND_MS = 1000 * 2 + 800 + 500
/** The lab's GSLB TTL: how long unbound may keep an old answer. */
const TTL_MS = 5000
const timings: Record<string, number> = {}

function record(what: string, ms: number): void {
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

  it('5. an operator disables a site on both instances: out of the next answer; enabled: back at once', async () => {
    for (const server of [NS1, NS2]) await admin(server, 'PUT', '/v1/sites/frankfurt/state', { state: 'disabled', reason: 'lab scenario 5' })
    for (const server of [NS1, NS2]) expect(await digFromClient(server, 'www.example.test')).toEqual([TOKYO.vip, OSAKA.vip].sort())
    for (const server of [NS1, NS2]) await admin(server, 'PUT', '/v1/sites/frankfurt/state', { state: 'enabled', reason: 'lab scenario 5 done' })
    for (const server of [NS1, NS2]) expect(await digFromClient(server, 'www.example.test')).toEqual(ALL_VIPS)
  })

  it('7. nearest site with EDNS Client Subnet: London → frankfurt, a Japanese network → tokyo', async () => {
    for (const server of [NS1, NS2]) {
      expect(await digFromClient(server, 'geo.example.test', ['+subnet=81.2.69.142/32'])).toEqual([FRANKFURT.vip])
      expect(await digFromClient(server, 'geo.example.test', ['+subnet=2001:218::/32'])).toEqual([TOKYO.vip])
    }
  })
})
