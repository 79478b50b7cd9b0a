// Operators' changes over real HTTP: disable and enable a server and a site and see dig follow,
// change a weight, and never lose an acknowledged change, even to kill -9.

import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { spawnSignpost } from '../support/process.ts'
import { startTestServer } from '../support/server.ts'
import { until as waitUntil } from '../support/wait.ts'

const TOKYO = '192.0.2.10'
const OSAKA = '198.51.100.10'
const FRANKFURT = '203.0.113.10'
const TOKEN = 'test-token'

const put = (adminPort: number, path: string, body: unknown, token = TOKEN) =>
  fetch(`http://127.0.0.1:${adminPort}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })

describe('admin state over HTTP', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let adminPort: number
  const stateDir = mkdtempSync(join(tmpdir(), 'signpost-admin-'))
  const fo = async () => (await dig(server.port, ['fo.gslb.test'])).answer.map((l) => l.split(' ')[4])

  beforeAll(async () => {
    server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), adminToken: TOKEN, stateDir })
    adminPort = Number(server.adminAddress?.split(':').pop())
  })
  afterAll(async () => {
    await server.close()
  })

  it('disables a server: it leaves the answers at once; enabling brings it back', async () => {
    expect(await fo()).toEqual([TOKYO])
    const reply = await put(adminPort, `/v1/servers/${TOKYO}/state`, { state: 'disabled', reason: 'kernel upgrade' })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toMatchObject({ state: 'disabled', reason: 'kernel upgrade', actor: 'admin (admin)' })
    expect((await fo()).sort()).toEqual([OSAKA, FRANKFURT].sort())
    expect((await put(adminPort, `/v1/servers/${TOKYO}/state`, { state: 'enabled', reason: 'done' })).status).toBe(200)
    expect(await fo()).toEqual([TOKYO])
  })

  it('drains a whole site', async () => {
    expect((await put(adminPort, '/v1/sites/tokyo/state', { state: 'drain', reason: 'maintenance window' })).status).toBe(200)
    expect((await fo()).sort()).toEqual([OSAKA, FRANKFURT].sort())
    expect((await put(adminPort, '/v1/sites/tokyo/state', { state: 'enabled', reason: 'window over' })).status).toBe(200)
  })

  it('the guard rail: a change leaving names with no server is refused with 409 and the names, nothing changes; "force": true makes it', async () => {
    expect((await put(adminPort, '/v1/sites/tokyo/state', { state: 'disabled', reason: 'a' })).status).toBe(200)
    expect((await put(adminPort, '/v1/sites/osaka/state', { state: 'disabled', reason: 'b' })).status).toBe(200)
    const refused = await put(adminPort, '/v1/sites/frankfurt/state', { state: 'drain', reason: 'c' })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toEqual({ error: expect.stringContaining('no server to answer'), names: ['www.gslb.test. A', 'geo.gslb.test. A', 'geo.gslb.test. AAAA', 'fo.gslb.test. A'] })
    expect(await fo()).toEqual([FRANKFURT])
    expect((await put(adminPort, '/v1/sites/frankfurt/state', { state: 'drain', reason: 'c', force: true })).status).toBe(200)
    // Forced: frankfurt is drained with nothing else in, so it answers as drain-only, which the guard rail warned of.
    const name = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/names/fo.gslb.test.`)).json()) as { v4: { reason: string } }
    expect(name.v4.reason).toBe('drain-only')
    for (const site of ['tokyo', 'osaka', 'frankfurt']) expect((await put(adminPort, `/v1/sites/${site}/state`, { state: 'enabled', reason: 'done' })).status).toBe(200)
    expect(await fo()).toEqual([TOKYO])
  })

  it('clears an override: DELETE …/state puts the state back, DELETE …/weight the weight; nothing to clear is 404; a bad window is 400', async () => {
    expect((await put(adminPort, `/v1/servers/${OSAKA}/state`, { state: 'drain', reason: 'x' })).status).toBe(200)
    expect((await put(adminPort, `/v1/servers/${OSAKA}/weight`, { weight: 4, reason: 'y' })).status).toBe(200)
    const del = (path: string) => fetch(`http://127.0.0.1:${adminPort}${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    const state = await del(`/v1/servers/${OSAKA}/state?reason=done%20draining`)
    expect(await state.json()).toMatchObject({ state: 'enabled', weight: 4, reason: 'done draining' })
    expect(await (await del(`/v1/servers/${OSAKA}/weight`)).json()).toEqual({ target: { kind: 'server', address: OSAKA }, cleared: true })
    const again = await del(`/v1/servers/${OSAKA}/weight`)
    expect(again.status).toBe(404)
    expect(await again.json()).toEqual({ error: `server ${OSAKA} has no override to clear` })
    for (const [body, error] of [[{ for: '0s' }, 'the window would end before it starts'], [{ until: '2020-01-01T00:00:00Z' }, 'the window would end before it starts'], [{ until: 'tomorrow' }, 'is not an RFC 3339 time'], [{ for: '2h', until: '2099-01-01T00:00:00Z' }, 'not both'], [{ for: '400d' }, 'within a year']] as const) {
      const reply = await put(adminPort, `/v1/servers/${OSAKA}/state`, { state: 'drain', reason: 'x', ...body })
      expect(reply.status).toBe(400)
      expect(((await reply.json()) as { error: string }).error).toContain(error)
    }
    expect((await put(adminPort, `/v1/servers/${OSAKA}/state`, { state: 'drain', reason: 'x', for: 'soon' })).status).toBe(400)
  })

  it('changes a weight', async () => {
    const reply = await put(adminPort, '/v1/sites/frankfurt/weight', { weight: 0, reason: 'capacity' })
    expect(await reply.json()).toMatchObject({ state: 'enabled', weight: 0 })
    const picks = new Set<string>()
    for (let i = 0; i < 20; i++) picks.add((await dig(server.port, ['www.gslb.test'])).answer[0]!.split(' ')[4]!)
    expect(picks.has(FRANKFURT)).toBe(false)
  })

  it.each([
    ['an unknown server', `/v1/servers/192.0.2.99/state`, { state: 'disabled', reason: 'x' }, TOKEN, 404],
    ['an unknown site', '/v1/sites/mars/state', { state: 'disabled', reason: 'x' }, TOKEN, 404],
    ['a bad state', `/v1/servers/${TOKYO}/state`, { state: 'off', reason: 'x' }, TOKEN, 400],
    ['no reason', `/v1/servers/${TOKYO}/state`, { state: 'disabled' }, TOKEN, 400],
    ['a weight out of range', `/v1/sites/tokyo/weight`, { weight: 5000, reason: 'x' }, TOKEN, 400],
    ['an octal address (127.0.1.010 is not 127.0.1.8)', '/v1/servers/192.0.2.010/state', { state: 'disabled', reason: 'x' }, TOKEN, 400],
    ['a hex address', '/v1/servers/0xc0.0.2.10/state', { state: 'disabled', reason: 'x' }, TOKEN, 400],
    ['an address as one number', '/v1/servers/3221225994/state', { state: 'disabled', reason: 'x' }, TOKEN, 400],
    ['a wrong token', `/v1/servers/${TOKYO}/state`, { state: 'disabled', reason: 'x' }, 'nope', 401],
  ])('refuses %s', async (_name, path, body, token, status) => {
    expect((await put(adminPort, path, body, token)).status).toBe(status)
  })

  it('shows status: what each name answers now and why, sites, servers', async () => {
    const status = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/status`)).json()) as { names: { name: string }[] }
    expect(status.names.map((n: { name: string }) => n.name).sort()).toEqual(['fo.gslb.test.', 'geo.gslb.test.', 'www.gslb.test.'])
    const fo = await (await fetch(`http://127.0.0.1:${adminPort}/v1/names/FO.gslb.test`)).json()
    expect(fo).toMatchObject({ name: 'fo.gslb.test.', policy: 'failover', v4: { reason: 'healthy', answering: [TOKYO, OSAKA, FRANKFURT] } })
    const site = await (await fetch(`http://127.0.0.1:${adminPort}/v1/sites/frankfurt`)).json()
    expect(site).toMatchObject({ name: 'frankfurt', admin: { weight: 0, reason: 'capacity' }, vips: [{ address: FRANKFURT, health: 'unknown' }, { address: '2001:db8:3::10', health: 'unknown' }] })
    const server = await (await fetch(`http://127.0.0.1:${adminPort}/v1/servers/${TOKYO}`)).json()
    expect(server).toMatchObject({ address: TOKYO, site: 'tokyo', eligibility: 'in' })
    expect((await fetch(`http://127.0.0.1:${adminPort}/v1/servers/10.9.9.9`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${adminPort}/v1/names/nope.test`)).status).toBe(404)
  })

  it('streams changes as server-sent events', async () => {
    const controller = new AbortController()
    const response = await fetch(`http://127.0.0.1:${adminPort}/v1/events`, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const reader = response.body!.getReader()
    await reader.read()
    await put(adminPort, `/v1/servers/${OSAKA}/state`, { state: 'up', reason: 'pinned for a test' })
    let text = ''
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    expect(text).toMatch(/^event: admin\ndata: \{.*"state":"up".*\}/m)
    await put(adminPort, `/v1/servers/${OSAKA}/state`, { state: 'enabled', reason: 'test over' })
  })

  it('serves the OpenAPI document of its routes', async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${adminPort}/docs/json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/status', '/v1/servers/{address}/state', '/v1/reload', '/v1/lb-events']))
  })

  it('exposes Prometheus metrics that promtool accepts', async () => {
    await dig(server.port, ['+tcp', 'nothing.gslb.test'])
    // Enough queries for the 1-in-64 response-time sample, in one dig run.
    await dig(server.port, Array.from({ length: 130 }, () => ['www.gslb.test', 'A']).flat())
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()
    expect(text).toMatch(/signpost_dns_queries_total\{transport="udp",rcode="NOERROR",qtype="A"\} \d+/)
    expect(text).toMatch(/signpost_dns_queries_total\{transport="tcp",rcode="NXDOMAIN",qtype="A"\} 1/)
    expect(text).toMatch(/signpost_gslb_answers_total\{name="www.gslb.test.",family="v4",reason="healthy"\} \d+/)
    expect(text).toMatch(new RegExp(`signpost_gslb_server_answers_total\\{address="${TOKYO.replace(/\./g, '\\.')}",site="tokyo"\\} \\d+`))
    expect(text).toMatch(/signpost_server_healthy\{address="192.0.2.10",site="tokyo"\} 1/)
    expect(text).toMatch(/signpost_snapshots_total \d+/)
    // What an SRE expects beside the query counts: the process, a sampled response time, operator
    // state, zone serials, the build; per thread (this server answers on its main thread).
    expect(text).toMatch(/^process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    expect(text).toMatch(/^signpost_dns_response_seconds_bucket\{le="0\.001"\} [1-9]/m)
    expect(text).toMatch(/^signpost_admin_weight\{kind="site",target="frankfurt"\} 0$/m)
    expect(text).toMatch(/^signpost_zone_serial\{zone="gslb\.test\."\} \d+$/m)
    expect(text).toMatch(/^signpost_build_info\{version="\d+\.\d+\.\d+",node="v24\.[\d.]+"\} 1$/m)
    expect(text).toMatch(/^signpost_thread_event_loop_utilization\{thread="main"\} [\d.]+$/m)
    expect(text).toMatch(/^signpost_thread_heap_used_bytes\{thread="main"\} \d+$/m)
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    // promtool's lint objects to three of prom-client's default gauges being named _total; those are
    // the names every Node dashboard knows, so they stay. Anything else is ours to fix.
    const known = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/
    expect((check.stdout + check.stderr).split('\n').filter((line) => line && !known.test(line))).toEqual([])
  })

  it('is driven by `npm run ctl` the same way', async () => {
    const env = { ...process.env, SIGNPOST_ADMIN: `http://127.0.0.1:${adminPort}`, SIGNPOST_ADMIN_TOKEN: TOKEN }
    // Asynchronously: the server under test runs in this process and must keep answering.
    const ctl = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        execFile(process.execPath, ['admin/ctl.ts', ...args], { env, encoding: 'utf8', timeout: 10_000 }, (error, stdout) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout }))
      })
    const status = await ctl('status')
    expect(status.status).toBe(0)
    expect(status.stdout).toContain('fo.gslb.test. A failover: healthy, answering 192.0.2.10')
    expect(status.stdout).toMatch(/site frankfurt: .*admin enabled weight 0 \(capacity\)/)
    expect((await ctl('drain', 'osaka', '--reason', 'ctl test')).status).toBe(0)
    expect((await ctl('enable', '198.51.100.10', '--reason', 'ctl test over')).status).toBe(0)
    expect((await ctl('enable', 'osaka', '--reason', 'ctl test over')).status).toBe(0)
    expect((await ctl('disable', 'mars', '--reason', 'x')).status).toBe(1)
    expect((await ctl('disable', 'osaka')).status).toBe(2)
    const audit = await ctl('audit', '2')
    expect(audit.status).toBe(0)
    expect((JSON.parse(audit.stdout) as { entries: { reason: string }[] }).entries.map((e) => e.reason)).toEqual(['ctl test over', 'ctl test over'])
    // Alone, there is no fleet to show.
    expect((await ctl('fleet')).status).toBe(1)
    const explained = await ctl('explain', 'geo.gslb.test', '127.0.0.1', '--ecs', '81.2.69.142/32')
    expect(explained.status).toBe(0)
    expect(explained.stdout).toContain('located by EDNS Client Subnet: 81.2.69.142/32 → 81.2.69.')
    expect(explained.stdout).toContain('nearest: site frankfurt')
    expect(explained.stdout).toMatch(/answer: NOERROR, TTL 20: 203\.0\.113\.10/)
  })

  it('ctl: --help is no error, a mistake in the arguments is a usage error (no request), several instances are each reported, and control characters in a reason are escaped', async () => {
    const env = { ...process.env, SIGNPOST_ADMIN: `http://127.0.0.1:${adminPort}`, SIGNPOST_ADMIN_TOKEN: TOKEN }
    const ctl = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['admin/ctl.ts', ...args], { env, encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }))
      })
    const help = await ctl('--help')
    expect(help).toMatchObject({ status: 0, stdout: expect.stringContaining('usage: npm run ctl') })
    const wrong = await ctl('drain', 'osaka', '--reasn', 'typo')
    expect(wrong.status).toBe(2)
    expect(wrong.stderr).toContain("Unknown option '--reasn'")
    expect(wrong.stderr).not.toContain('no answer from')
    expect((await ctl('weight', 'osaka', 'heavy', '--reason', 'x')).status).toBe(2)
    // Two instances, one of them not there: both are reported, and the exit says one failed.
    const both = await ctl('status', '--admin', `http://127.0.0.1:${adminPort}`, '--admin', 'http://127.0.0.1:1')
    expect(both.status).toBe(1)
    expect(both.stdout).toContain(`== http://127.0.0.1:${adminPort}\n`)
    expect(both.stdout).toContain('fo.gslb.test. A failover')
    expect(both.stdout).toContain('ctl: no answer from the admin API at http://127.0.0.1:1')
    // A reason holding a terminal escape and a line break cannot fake a status line.
    expect((await ctl('drain', 'osaka', '--reason', 'ok\u001b[2J\nsite osaka: 198.51.100.10 up')).status).toBe(0)
    try {
      const status = await ctl('status')
      expect(status.stdout).not.toContain('\u001b')
      expect(status.stdout).not.toMatch(/^site osaka: 198\.51\.100\.10 up$/m)
      expect(status.stdout).toContain('(ok\\u001b[2J\\u000asite osaka: 198.51.100.10 up)')
    } finally {
      expect((await ctl('enable', 'osaka', '--reason', 'ctl test over')).status).toBe(0)
    }
  })

  it('writes every change to the state file and the audit log', () => {
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'))
    expect(state.servers[TOKYO]).toMatchObject({ state: 'enabled', reason: 'done' })
    expect(state.sites.frankfurt).toMatchObject({ weight: 0, reason: 'capacity' })
    const audit = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(audit[0]).toMatchObject({ actor: 'admin (admin)', target: `server ${TOKYO}`, from: null, to: { state: 'disabled' }, reason: 'kernel upgrade' })
    expect(audit).toHaveLength(22)
  })

  it('takes an IPv6 server in any RFC 4291 spelling and names the canonical target it changed', async () => {
    const reply = await put(adminPort, '/v1/servers/2001:DB8:1:0:0::10/state', { state: 'drain', reason: 'spelling' })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toMatchObject({ target: { kind: 'server', address: '2001:db8:1::10' }, state: 'drain' })
    expect(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).servers['2001:db8:1::10']).toMatchObject({ state: 'drain' })
    expect((await put(adminPort, '/v1/servers/2001:db8:1::10/state', { state: 'enabled', reason: 'done' })).status).toBe(200)
  })
})

describe('reload of admin settings', () => {
  it('an override whose site a reload removed is listed in status and can be cleared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-orphan-'))
    cpSync('test/fixtures/gslb', dir, { recursive: true })
    const config = join(dir, 'signpost.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('../../../zones/geoip', resolve('zones/geoip')))
    const server = await startTestServer(dir, { configFile: config, stateDir: dir, adminToken: TOKEN })
    const port = Number(server.adminAddress?.split(':').pop())
    try {
      expect((await put(port, '/v1/sites/osaka/state', { state: 'drain', reason: 'before osaka closed' })).status).toBe(200)
      // osaka goes: its block in the config, its addresses in the zone.
      writeFileSync(config, readFileSync(config, 'utf8').replace(/  osaka:\n(    .*\n)+/, '').replace('order: [tokyo, [osaka, frankfurt]]', 'order: [tokyo, frankfurt]'))
      const zone = join(dir, 'gslb.test.zone')
      writeFileSync(zone, readFileSync(zone, 'utf8').replace(/^.*(198\.51\.100\.10|2001:db8:2::10).*\n/gm, '').replace(/^(@\s+SOA ns1 hostmaster )1 /m, '$12 '))
      const reload = await fetch(`http://127.0.0.1:${port}/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(reload.status, JSON.stringify(await reload.clone().json())).toBe(200)
      const status = (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as { orphanedOverrides: unknown[] }
      expect(status.orphanedOverrides).toEqual([expect.objectContaining({ target: { kind: 'site', site: 'osaka' }, state: 'drain', reason: 'before osaka closed' })])
      expect((await put(port, '/v1/sites/osaka/state', { state: 'disabled', reason: 'x' })).status).toBe(404)
      const cleared = await fetch(`http://127.0.0.1:${port}/v1/sites/osaka/state`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(await cleared.json()).toEqual({ target: { kind: 'site', site: 'osaka' }, cleared: true })
      expect(((await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as { orphanedOverrides: unknown[] }).orphanedOverrides).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('rotates a leaked token and turns protect_reads on without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-rotate-'))
    cpSync('test/fixtures/gslb', dir, { recursive: true })
    const config = join(dir, 'signpost.yaml')
    const base = readFileSync(config, 'utf8').replace('../../../zones/geoip', resolve('zones/geoip'))
    writeFileSync(join(dir, 'tokens'), 'alice leaked-token\n')
    writeFileSync(config, `${base}admin: { tokens_file: tokens }\n`)
    const server = await startTestServer(dir, { configFile: config, stateDir: dir, adminToken: 'unused-for-this-test' })
    const port = Number(server.adminAddress?.split(':').pop())
    const reload = (token: string) => fetch(`http://127.0.0.1:${port}/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    try {
      expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(200)
      writeFileSync(join(dir, 'tokens'), 'alice fresh-token\n')
      writeFileSync(config, `${base}admin: { tokens_file: tokens, protect_reads: true }\n`)
      expect((await reload('leaked-token')).status).toBe(200)
      expect((await put(port, '/v1/sites/osaka/state', { state: 'drain', reason: 'x' }, 'leaked-token')).status).toBe(401)
      expect((await put(port, '/v1/sites/osaka/state', { state: 'enabled', reason: 'x' }, 'fresh-token')).status).toBe(200)
      expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(401)
      expect((await fetch(`http://127.0.0.1:${port}/v1/status`, { headers: { authorization: 'Bearer fresh-token' } })).status).toBe(200)
      // A key read only at start: refused, with its line, and the tokens stay as they are.
      writeFileSync(config, `${base}admin: { tokens_file: tokens, protect_reads: true, listen: 127.0.0.1:9 }\n`)
      const refused = await reload('fresh-token')
      expect(refused.status).toBe(422)
      expect(await refused.json()).toMatchObject({ problems: [{ code: 'config', file: config, message: 'admin.listen (the admin API address) is read only at start: restart Signpost to change it; nothing was reloaded' }] })
      expect((await put(port, '/v1/sites/osaka/state', { state: 'enabled', reason: 'y' }, 'fresh-token')).status).toBe(200)
    } finally {
      await server.close()
    }
  })
})

/** A copy of the GSLB fixture for a server run as its own process: GeoIP found, state file and audit log in its var/. */
function processFixture(prefix: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cpSync('test/fixtures/gslb', dir, { recursive: true })
  const config = join(dir, 'signpost.yaml')
  writeFileSync(config, readFileSync(config, 'utf8').replace('../../../zones/geoip', resolve('zones/geoip')) + `admin:\n  state_file: ${join(dir, 'var/state.json')}\n  audit_log: ${join(dir, 'var/audit.log')}\n`)
  return { dir, config }
}

describe('durability', () => {
  it('keeps a change acknowledged just before kill -9', async () => {
    const { config } = processFixture('signpost-crash-')
    process.env['SIGNPOST_ADMIN_TOKEN'] = TOKEN
    const first = await spawnSignpost(['--config', config])
    delete process.env['SIGNPOST_ADMIN_TOKEN']
    const reply = await put(first.adminPort, `/v1/servers/${TOKYO}/state`, { state: 'disabled', reason: 'before the crash' })
    expect(reply.status).toBe(200)
    execFileSync('kill', ['-9', String(first.child.pid)])
    await first.stop()
    const second = await spawnSignpost(['--config', config])
    try {
      expect((await dig(second.port, ['fo.gslb.test'])).answer.map((l) => l.split(' ')[4]).sort()).toEqual([OSAKA, FRANKFURT].sort())
    } finally {
      await second.stop()
    }
  })

  it('a maintenance window (for: 3s) ends by itself across a restart: the override is cleared with its own audit line, and the site answers again', async () => {
    const { dir, config } = processFixture('signpost-window-')
    process.env['SIGNPOST_ADMIN_TOKEN'] = TOKEN
    const first = await spawnSignpost(['--config', config])
    const opened = Date.now()
    const reply = await put(first.adminPort, '/v1/sites/tokyo/state', { state: 'disabled', reason: 'kernel upgrade', for: '3s' })
    expect(reply.status).toBe(200)
    const until = ((await reply.json()) as { until: string }).until
    expect(Date.parse(until) - opened).toBeGreaterThanOrEqual(2900)
    expect(((await (await fetch(`http://127.0.0.1:${first.adminPort}/v1/sites/tokyo`)).json()) as { admin: { until: string } }).admin.until).toBe(until)
    await first.stop()
    const second = await spawnSignpost(['--config', config])
    delete process.env['SIGNPOST_ADMIN_TOKEN']
    try {
      const fo = async () => (await dig(second.port, ['fo.gslb.test'])).answer.map((l) => l.split(' ')[4])
      expect(await fo()).not.toContain(TOKYO)
      await waitUntil(async () => (await fo()).includes(TOKYO), 6000, 'tokyo answered again once the window ends')
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until))
      const audit = readFileSync(join(dir, 'var/audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(audit.at(-1)).toMatchObject({ actor: 'signpost (expiry)', target: 'site tokyo', to: null, reason: `maintenance window ended (until ${until})` })
      expect(JSON.parse(readFileSync(join(dir, 'var/state.json'), 'utf8')).sites).toEqual({})
    } finally {
      await second.stop()
    }
  })

  it.each([
    ['a weight no API would take (1e12, which made the weighted cycle an array too long to make)', { servers: { '192.0.2.10': { state: 'enabled', weight: 1e12, reason: 'x', actor: 'a', at: 'now' } }, sites: {} }, 'servers.192.0.2.10: weight 1000000000000 is not a whole number from 0 to 1000'],
    ['a negative weight', { servers: {}, sites: { tokyo: { state: 'enabled', weight: -5, reason: 'x', actor: 'a', at: 'now' } } }, 'sites.tokyo: weight -5 is not a whole number from 0 to 1000'],
    ['a weight that is text', { servers: {}, sites: { tokyo: { state: 'enabled', weight: 'lots', reason: 'x', actor: 'a', at: 'now' } } }, 'sites.tokyo: weight "lots" is not a whole number from 0 to 1000'],
    ['an unknown state', { servers: {}, sites: { tokyo: { state: 'off', reason: 'x', actor: 'a', at: 'now' } } }, 'sites.tokyo: state "off" is not one of'],
    ['a server key that is no canonical address', { servers: { '192.0.2.010': { state: 'disabled', reason: 'x', actor: 'a', at: 'now' } }, sites: {} }, "servers.192.0.2.010: '192.0.2.010' is not an IP address"],
  ])('sets a state file with %s aside, says why, and starts without overrides', async (_name, file, why) => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-invalid-'))
    writeFileSync(join(dir, 'state.json'), JSON.stringify(file))
    const logs: Record<string, unknown>[] = []
    const server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), stateDir: dir, logs })
    try {
      expect(existsSync(join(dir, 'state.json'))).toBe(false)
      const entry = logs.find((l) => l['msg'] === 'admin state file unreadable: set aside, starting with no overrides')
      expect(String(entry?.['problem'])).toContain(why)
      expect(existsSync(String(entry?.['setAside']))).toBe(true)
      expect((await dig(server.port, ['www.gslb.test'])).answer).toHaveLength(1)
    } finally {
      await server.close()
    }
  })

  it('a change whose audit line cannot be written is a 500 that changes nothing, now or after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-audit-'))
    const first = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), adminToken: TOKEN, stateDir: dir })
    const port = Number(first.adminAddress?.split(':').pop())
    expect((await put(port, '/v1/sites/osaka/state', { state: 'drain', reason: 'before' })).status).toBe(200)
    const stateBefore = readFileSync(join(dir, 'state.json'), 'utf8')
    rmSync(join(dir, 'audit.log'))
    mkdirSync(join(dir, 'audit.log')) // appending to it now fails (EISDIR), even as root
    try {
      expect((await put(port, `/v1/servers/${TOKYO}/state`, { state: 'disabled', reason: 'unaudited' })).status).toBe(500)
      expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(stateBefore)
      expect(existsSync(join(dir, 'state.json.tmp'))).toBe(false)
      expect((await dig(first.port, ['fo.gslb.test'])).answer.map((l) => l.split(' ')[4])).toEqual([TOKYO])
    } finally {
      await first.close()
    }
    rmSync(join(dir, 'audit.log'), { recursive: true })
    const second = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), stateDir: dir })
    try {
      expect((await dig(second.port, ['fo.gslb.test'])).answer.map((l) => l.split(' ')[4])).toEqual([TOKYO])
    } finally {
      await second.close()
    }
  })

  it('refuses to start when the audit log cannot be written, in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-unwritable-'))
    mkdirSync(join(dir, 'audit.log'))
    await expect(startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), stateDir: dir })).rejects.toThrow(`cannot write the audit log ${join(dir, 'audit.log')}: EISDIR`)
    // It let go of the state file's lock on the way out.
    expect(existsSync(join(dir, 'state.json.lock'))).toBe(false)
  })

  it('refuses a second instance on the same state file, and takes over a lock whose owner is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-lock-'))
    cpSync('test/fixtures/gslb', dir, { recursive: true })
    const config = join(dir, 'signpost.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('../../../zones/geoip', resolve('zones/geoip')) + `admin:\n  state_file: ${join(dir, 'var/state.json')}\n  audit_log: ${join(dir, 'var/audit.log')}\n`)
    const first = await spawnSignpost(['--config', config])
    try {
      const second = spawnSync(process.execPath, ['server/main.ts', 'serve', '--config', config, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 })
      expect(second.status).toBe(3)
      expect(second.stdout + second.stderr).toContain(`the admin state file ${join(dir, 'var/state.json')} is in use by another Signpost (pid ${first.child.pid}`)
    } finally {
      execFileSync('kill', ['-9', String(first.child.pid)])
      await first.stop()
    }
    // kill -9 left the lock behind, naming a pid that is gone.
    expect(readFileSync(join(dir, 'var/state.json.lock'), 'utf8').trim()).toBe(String(first.child.pid))
    const third = await spawnSignpost(['--config', config])
    await third.stop()
    expect(existsSync(join(dir, 'var/state.json.lock'))).toBe(false)
  })

  it('sets a corrupt state file aside, says so, and starts without overrides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-corrupt-'))
    writeFileSync(join(dir, 'state.json'), '{ "servers": { oops')
    const logs: Record<string, unknown>[] = []
    const server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), stateDir: dir, logs })
    try {
      expect(existsSync(join(dir, 'state.json'))).toBe(false)
      const entry = logs.find((l) => l['msg'] === 'admin state file unreadable: set aside, starting with no overrides')
      expect(entry).toBeDefined()
      expect(existsSync(String(entry?.['setAside']))).toBe(true)
    } finally {
      await server.close()
    }
  })
})
