// Every admin route and its error cases, through fastify's inject() against a recording Control.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../admin/app.ts'
import { parseTokens } from '../../server/state/settings.ts'
import type { AdminChange, AdminTarget, AdminToken, Control, ReloadResult, StatusView } from '../../server/state/control.ts'

const STATUS = {
  generation: 3,
  names: [{ name: 'www.example.test.', policy: 'weighted', ttl: 30, maxAnswers: 1, v4: { reason: 'healthy', answering: ['192.0.2.10'] }, v6: null, servers: [] }],
  sites: [{ name: 'tokyo', location: null, admin: null, vips: [{ address: '192.0.2.10', health: 'up' }], lbPair: { degraded: false, down: false, nodes: [] } }],
  servers: [{ address: '192.0.2.10', site: 'tokyo', health: 'up', admin: { state: 'enabled', own: null }, eligibility: 'in', lastProbe: null, lastChange: null, transitions: [] }],
} as unknown as StatusView

function fake(options: { zones?: number; reload?: ReloadResult; tokens?: ReadonlyMap<string, AdminToken>; protectReads?: boolean } = {}) {
  const changes: { target: AdminTarget; change: AdminChange; actor: string }[] = []
  const control: Control = {
    zonesLoaded: () => options.zones ?? 1,
    status: () => STATUS,
    explain: (request) => (request.name === 'www.example.test.' ? { ok: true, explanation: { name: request.name, client: request.client } } : { ok: false, status: 404, message: `'${request.name}' is no GSLB name` }),
    simulate: async (asked) => (asked.some((c) => c.target === 'site:mars') ? { ok: false, status: 404, message: "changes[0] (site:mars): no site named 'mars'" } : { ok: true, simulation: { changes: asked.length } }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', text: '# HELP x y\n# TYPE x counter\nx 1\n' }),
    reload: async () => options.reload ?? { ok: true, zones: [{ name: 'example.test.', serial: 2, file: 'z' }], changes: { zonesAdded: [], zonesRemoved: [], serials: [{ zone: 'example.test.', from: 1, to: 2 }], namesAdded: [], namesRemoved: [] } },
    lbEvent: async () => ({ ok: true, shared: false }),
    setAdminState: async (target, change, actor) => {
      if (target.kind === 'site' && target.site !== 'tokyo') return { ok: false, status: 404, message: `no site named '${target.site}'` }
      changes.push({ target, change, actor })
      return { ok: true, target, record: { state: change.state ?? 'enabled', weight: change.weight, reason: change.reason, actor, at: '2026-11-23T00:00:00.000Z' } }
    },
    subscribe: () => () => undefined,
    fleet: () => undefined,
    audit: async () => [],
    settings: () => ({ tokens: options.tokens ?? TOKENS, protectReads: options.protectReads ?? false, logLevel: 'info' }),
  }
  return { control, changes }
}

const parsed = parseTokens('# name token [role]\nalice  alice-secret\nbob bob-secret   # on-call\ncarol carol-secret operate\ndave dave-secret read\n')
if (!parsed.ok) throw new Error(parsed.message)
const TOKENS = parsed.tokens

function app(options: { zones?: number; reload?: ReloadResult; tokens?: ReadonlyMap<string, AdminToken>; protectReads?: boolean } = {}) {
  const { control, changes } = fake(options)
  return { app: buildAdminApp({ control, maxConnections: 64, logger: pino({ level: 'silent' }) }), changes }
}
const as = (name: string) => ({ authorization: `Bearer ${name}-secret` })

describe('reads', () => {
  it.each([
    ['/healthz', 200, { status: 'ok', zones: 1 }],
    ['/v1/status', 200, { generation: 3 }],
    ['/v1/servers/192.0.2.10', 200, { address: '192.0.2.10', eligibility: 'in' }],
    ['/v1/servers/10.0.0.1', 404, { error: "no server with address '10.0.0.1'" }],
    ['/v1/servers/192.0.2.010', 400, { error: "'192.0.2.010' is not an IP address (IPv4 as four decimal numbers from 0 to 255 without leading zeros, or IPv6)" }],
    ['/v1/servers/3221225994', 400, { error: "'3221225994' is not an IP address (IPv4 as four decimal numbers from 0 to 255 without leading zeros, or IPv6)" }],
    ['/v1/sites/tokyo', 200, { name: 'tokyo' }],
    ['/v1/sites/mars', 404, { error: "no site named 'mars'" }],
    ['/v1/names/WWW.example.test', 200, { name: 'www.example.test.', v4: { reason: 'healthy' } }],
    ['/v1/names/nope.example.test.', 404, { error: "no GSLB name 'nope.example.test.'" }],
  ])('GET %s → %i', async (url, status, body) => {
    const reply = await app().app.inject({ url })
    expect(reply.statusCode).toBe(status)
    expect(reply.json()).toMatchObject(body)
  })

  it.each([
    [{ changes: [{ target: 'site:tokyo', state: 'drain' }, { target: '192.0.2.10', health: 'down' }] }, 200, { changes: 2 }],
    [{ changes: [{ target: 'site:mars', state: 'drain' }] }, 404, { error: "changes[0] (site:mars): no site named 'mars'" }],
    [{ changes: [{ target: 'site:tokyo', state: 'sleep' }] }, 400, {}],
    [{ changes: [{ target: 'site:tokyo', health: 'down', extra: 1 }] }, 400, {}],
    [{}, 400, {}],
  ])('POST /v1/simulate %j → %i, with no token (a read)', async (payload, status, body) => {
    const reply = await app().app.inject({ method: 'POST', url: '/v1/simulate', payload })
    expect(reply.statusCode).toBe(status)
    expect(reply.json()).toMatchObject(body)
  })

  it('GET /healthz → 503 with no zones loaded', async () => {
    expect((await app({ zones: 0 }).app.inject({ url: '/healthz' })).statusCode).toBe(503)
  })

  it('GET /metrics serves the Prometheus text format', async () => {
    const reply = await app().app.inject({ url: '/metrics' })
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(reply.body).toContain('x 1')
  })

  it('with protect_reads, reads need a token (but /healthz does not)', async () => {
    const { app: protectedApp } = app({ protectReads: true })
    expect((await protectedApp.inject({ url: '/v1/status' })).statusCode).toBe(401)
    expect((await protectedApp.inject({ url: '/metrics' })).statusCode).toBe(401)
    expect((await protectedApp.inject({ method: 'POST', url: '/v1/simulate', payload: { changes: [] } })).statusCode).toBe(401)
    expect((await protectedApp.inject({ url: '/v1/status', headers: as('bob') })).statusCode).toBe(200)
    expect((await protectedApp.inject({ url: '/healthz' })).statusCode).toBe(200)
  })

  it('serves the OpenAPI document', async () => {
    const doc = (await app().app.inject({ url: '/docs/json' })).json() as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toMatch(/^3\./)
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/v1/status', '/v1/names/{fqdn}', '/v1/sites/{site}/weight']))
  })
})

describe('request logging', () => {
  it('one line per request: reads at debug, writes at info with who made them; no token in it', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as Record<string, unknown>) })
    const { control } = fake()
    const logged = buildAdminApp({ control, maxConnections: 64, logger })
    await logged.inject({ url: '/v1/status' })
    await logged.inject({ method: 'PUT', url: '/v1/sites/tokyo/state', payload: { state: 'drain', reason: 'x' }, headers: as('alice') })
    const requests = lines.filter((l) => l['msg'] === 'admin request')
    expect(lines.filter((l) => l['msg'] === 'incoming request' || l['msg'] === 'request completed')).toEqual([])
    expect(requests).toMatchObject([
      { level: 20, method: 'GET', url: '/v1/status', status: 200 },
      { level: 30, method: 'PUT', url: '/v1/sites/tokyo/state', status: 200, actor: 'alice (admin)' },
    ])
    expect(JSON.stringify(lines)).not.toContain('alice-secret')
  })
})

describe('writes', () => {
  it('records who made a change by the name and role of their token', async () => {
    const { app: a, changes } = app()
    const reply = await a.inject({ method: 'PUT', url: '/v1/sites/tokyo/state', payload: { state: 'drain', reason: 'maintenance' }, headers: as('alice') })
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toMatchObject({ target: { kind: 'site', site: 'tokyo' }, state: 'drain', actor: 'alice (admin)' })
    expect(changes).toEqual([{ target: { kind: 'site', site: 'tokyo' }, change: { state: 'drain', reason: 'maintenance' }, actor: 'alice (admin)' }])
  })

  it.each([
    ['PUT', '/v1/servers/192.0.2.10/weight', { weight: 7, reason: 'more' }, 200],
    ['PUT', '/v1/servers/192.0.2.10/weight', { weight: -1, reason: 'less' }, 400],
    ['PUT', '/v1/servers/192.0.2.10/weight', { weight: 1.5, reason: 'half' }, 400],
    ['PUT', '/v1/servers/192.0.2.10/state', { state: 'enabled', reason: 'x', extra: 1 }, 400],
    ['PUT', '/v1/servers/192.0.2.10/state', { state: 'enabled', reason: '' }, 400],
    ['PUT', '/v1/sites/mars/weight', { weight: 1, reason: 'x' }, 404],
    ['POST', '/v1/reload', undefined, 200],
  ])('%s %s → %i', async (method, url, payload, status) => {
    const reply = await app().app.inject({ method: method as 'PUT' | 'POST', url, ...(payload ? { payload } : {}), headers: as('bob') })
    expect(reply.statusCode).toBe(status)
  })

  it('answers 422 with every problem when a reload is rejected', async () => {
    const problems = [{ code: 'rdata' as const, file: 'zones/x.zone', line: 4, message: "A: '1.2.3' is not an IPv4 address" }]
    const reply = await app({ reload: { ok: false, problems, zones: [] } }).app.inject({ method: 'POST', url: '/v1/reload', headers: as('bob') })
    expect(reply.statusCode).toBe(422)
    expect(reply.json()).toMatchObject({ ok: false, problems })
  })

  it('refuses writes without a token, with a wrong one, and when no token is configured', async () => {
    const body = { method: 'PUT' as const, url: '/v1/sites/tokyo/state', payload: { state: 'up', reason: 'x' } }
    expect((await app().app.inject(body)).statusCode).toBe(401)
    expect((await app().app.inject({ ...body, headers: { authorization: 'Bearer alice-secretX' } })).statusCode).toBe(401)
    expect((await app({ tokens: new Map() }).app.inject({ ...body, headers: as('alice') })).statusCode).toBe(503)
  })

  it('roles: read tokens only read, operate tokens change state and weight but not reload, admin tokens do all; no role is admin', async () => {
    const { app: a, changes } = app({ protectReads: true })
    const state = { method: 'PUT' as const, url: '/v1/sites/tokyo/state', payload: { state: 'drain', reason: 'x' } }
    const reload = { method: 'POST' as const, url: '/v1/reload' }
    expect((await a.inject({ method: 'GET', url: '/v1/status', headers: as('dave') })).statusCode).toBe(200)
    const refused = await a.inject({ ...state, headers: as('dave') })
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toEqual({ error: "token 'dave' has role read; this needs operate" })
    expect((await a.inject({ ...state, headers: as('carol') })).statusCode).toBe(200)
    expect((await a.inject({ ...reload, headers: as('carol') })).statusCode).toBe(403)
    expect((await a.inject({ ...reload, headers: as('alice') })).statusCode).toBe(200)
    expect(changes.map((c) => c.actor)).toEqual(['carol (operate)'])
  })

  it('the bearer scheme is case-insensitive (RFC 9110 §11.1)', async () => {
    const reply = await app().app.inject({ method: 'PUT', url: '/v1/sites/tokyo/state', payload: { state: 'up', reason: 'x' }, headers: { authorization: 'bearer alice-secret' } })
    expect(reply.statusCode).toBe(200)
  })

  it('a tokens file line with an unknown role is refused with its line', () => {
    expect(parseTokens('ok ok-secret\nbad bad-secret root\n')).toEqual({ ok: false, line: 2, message: 'expected "name token [role]", a role being read, operate or admin (token \'bad\')' })
  })

  it('refuses bodies over 64 KiB', async () => {
    const reply = await app().app.inject({ method: 'PUT', url: '/v1/sites/tokyo/state', payload: { state: 'up', reason: 'x'.repeat(70_000) }, headers: as('alice') })
    expect(reply.statusCode).toBe(413)
  })
})
