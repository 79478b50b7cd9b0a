// The admin HTTP API (fastify). It talks to the server only through the Control interface; it
// never touches sockets, zones or probe internals. No listen() here, so tests use inject().
// Reads are open unless protect_reads (the listener binds 127.0.0.1 by default); every write needs
// a bearer token whose role allows it: `operate` for state, weight and keepalived events, `admin`
// for a reload (a `read` token only reads).

import swagger from '@fastify/swagger'
import http from 'node:http'
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { MAX_WEIGHT, parseServerAddress, type AdminChange, type AdminTarget, type Control, type LbEvent, type Role, type WhatIf } from '../server/state/control.ts'
import { allows, authenticate } from './auth.ts'
import { serveConsole } from './console-files.ts'
import { createEventStream, DEFAULT_EVENT_STREAM_LIMITS, type EventStreamLimits } from './event-stream.ts'
import { auditReply, conflictReply, decisionReply, errorReply, healthzReply, lbEventReply, nameModel, OPENAPI, operation, recordReply, refusals, rejectedReloadReply, reloadReply, serverModel, siteModel, statusReply, textReply } from './openapi.ts'

/**
 * Tokens (every write presents one as `Authorization: Bearer …`; none: writes are off) and
 * protect_reads (reads but /healthz need one too) come from `control.settings()` per request, so a
 * reload rotates them.
 */
export type AdminDeps = {
  readonly control: Control
  /** Connections open at once, event streams included. */
  readonly maxConnections: number
  readonly logger: Logger
  /** Event streams open at once and their heartbeat (DEFAULT_EVENT_STREAM_LIMITS unless a test says). */
  readonly eventStream?: EventStreamLimits
}

const force = { type: 'boolean' } as const
/** A maintenance window's end: an RFC 3339 time, or a duration from now (`for`: 90m, 2h, 1d12h). */
const until = { type: 'string', minLength: 1, maxLength: 64 } as const
const forDuration = { type: 'string', pattern: '^(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$' } as const
const DURATION_UNITS_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }
/** Overrides end within a year at most. */
const MAX_WINDOW_MS = 366 * 86_400_000

/** The end a write asks for, as an RFC 3339 time, or why it is no end: a past time, both `until` and `for`, past a year. */
function windowEnd(body: { until?: string; for?: string }, nowMs: number): { ok: true; until: string | undefined } | { ok: false; message: string } {
  if (body.until !== undefined && body.for !== undefined) return { ok: false, message: 'give until or for, not both' }
  let endMs: number
  if (body.until !== undefined) {
    endMs = Date.parse(body.until)
    if (Number.isNaN(endMs) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(body.until)) return { ok: false, message: `until '${body.until}' is not an RFC 3339 time (2026-12-24T18:00:00Z)` }
  } else if (body.for !== undefined) {
    endMs = nowMs + [...body.for.matchAll(/(\d+)([dhms])/g)].reduce((sum, m) => sum + Number(m[1]) * (DURATION_UNITS_MS[m[2] as string] as number), 0)
  } else {
    return { ok: true, until: undefined }
  }
  if (endMs <= nowMs) return { ok: false, message: 'the window would end before it starts: until must be in the future, for more than 0' }
  if (endMs - nowMs > MAX_WINDOW_MS) return { ok: false, message: 'a window ends within a year; set no end for an override that stays' }
  return { ok: true, until: new Date(endMs).toISOString() }
}
const reason = { type: 'string', minLength: 1, maxLength: 500 } as const

declare module 'fastify' {
  interface FastifyRequest {
    /** The token the request authenticated with, as the audit log names it: `name (role)`. */
    actor: string
  }
}

/**
 * What one client may hold of the admin server: a request must arrive whole within 10 s (headers
 * within 5 s), an idle keep-alive connection closes after 5 s, and at most `maxConnections` are
 * open at once (more are closed as they come). A client trickling a large body otherwise held its
 * file descriptor forever, and a few hundred of them left none for the health probes.
 */
const ADMIN_LIMITS = { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 } as const

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const { control } = deps
  // Strict bodies: an unknown key (a typo) is a 400, not silently dropped, and types are not coerced.
  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per request (below), not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    serverFactory: (handler) => {
      const server = http.createServer(ADMIN_LIMITS, handler)
      server.maxConnections = deps.maxConnections
      return server
    },
  })
  app.decorateRequest('actor', '')
  // A request the schema refuses gets the API's one error shape, with the reason: {"error": "body/state must be …"}.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) return reply.code(400).send({ error: error.message })
    const status = error.statusCode ?? 500
    if (status >= 500) request.log.error({ err: error }, 'admin request failed')
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message })
  })
  // One line per request, when it is answered: reads at debug (a console polls), writes at info,
  // server errors at error. The query string is kept (explain's client); headers, tokens included, are not.
  app.addHook('onResponse', async (request, reply) => {
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ...(request.actor ? { actor: request.actor } : {}) }
    const read = request.method === 'GET' || request.method === 'HEAD' || request.url.startsWith('/v1/simulate')
    if (reply.statusCode >= 500) request.log.error(line, 'admin request')
    else if (read) request.log.debug(line, 'admin request')
    else request.log.info(line, 'admin request')
  })
  // Event streams never end on their own: closing the app ends them, or it would wait for every client to leave.
  const events = createEventStream((listener) => control.subscribe(listener), deps.eventStream ?? DEFAULT_EVENT_STREAM_LIMITS)
  app.addHook('preClose', async () => events.close())
  /** A hook that lets through a token whose role allows `needed`: 401 without one, 403 when its role does not. */
  const requireToken = (needed: Role) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { tokens } = control.settings()
    if (tokens.size === 0) return reply.code(503).send({ error: 'no admin tokens configured: set SIGNPOST_ADMIN_TOKEN or admin.tokens_file' })
    const who = authenticate(request.headers.authorization, tokens)
    if (who === undefined) return reply.code(401).send({ error: 'missing or wrong bearer token' })
    if (!allows(who.role, needed)) return reply.code(403).send({ error: `token '${who.name}' has role ${who.role}; this needs ${needed}` })
    request.actor = `${who.name} (${who.role})`
  }
  void app.register(swagger, { openapi: OPENAPI })

  // Routes go in a plugin registered after swagger, so the OpenAPI document sees all of them.
  void app.register(async (app) => {
    app.get('/docs/json', { schema: { ...operation('openapi', 'This OpenAPI document', 'health', 'public'), response: { 200: { type: 'object', additionalProperties: true, description: 'OpenAPI 3.0' } } } }, async () => app.swagger())
    // The console page itself holds no data: it asks for a token when reads are protected.
    serveConsole(app)
    app.get('/healthz', { schema: { ...operation('healthz', 'Liveness: 200 while zones are loaded', 'health', 'public'), response: { 200: healthzReply, 503: { ...healthzReply, description: 'no zones loaded' } } } }, async (_request, reply) => {
      const zones = control.zonesLoaded()
      return reply.code(zones > 0 ? 200 : 503).send({ status: zones > 0 ? 'ok' : 'no zones loaded', zones })
    })

    // Reads: open unless admin.protect_reads (then a token, except /healthz above).
    void app.register(async (app) => {
      app.addHook('onRequest', async (request, reply) => {
        if (control.settings().protectReads) return requireToken('read')(request, reply)
      })
      app.get('/metrics', { schema: { ...operation('metrics', 'Prometheus metrics', 'health', 'read'), produces: ['text/plain'], response: { 200: textReply('Prometheus text exposition format 0.0.4'), ...refusals('read') } } }, async (_request, reply) => {
        const { contentType, text } = await control.metrics()
        return reply.type(contentType).send(text)
      })

      app.get('/v1/status', { schema: { ...operation('status', 'Every GSLB name, site and server: what is answered now and why', 'status', 'read'), response: { 200: statusReply, ...refusals('read') } } }, async () => control.status())
      const one = <T>(found: T | undefined, what: string, reply: FastifyReply): T | FastifyReply => found ?? reply.code(404).send({ error: `no ${what}` })
      app.get<{ Params: { address: string } }>('/v1/servers/:address', { schema: { ...operation('getServer', 'One server (site VIP)', 'status', 'read'), response: { 200: serverModel, 400: errorReply, 404: errorReply, ...refusals('read') } } }, async (request, reply) => {
        const parsed = parseServerAddress(request.params.address)
        if (!parsed.ok) return reply.code(400).send({ error: parsed.message })
        return one(control.status().servers.find((s) => s.address === parsed.address), `server with address '${parsed.address}'`, reply)
      })
      app.get<{ Params: { site: string } }>('/v1/sites/:site', { schema: { ...operation('getSite', 'One site', 'status', 'read'), response: { 200: siteModel, 404: errorReply, ...refusals('read') } } }, async (request, reply) =>
        one(control.status().sites.find((s) => s.name === request.params.site), `site named '${request.params.site}'`, reply))
      app.get<{ Params: { fqdn: string } }>('/v1/names/:fqdn', { schema: { ...operation('getName', 'One GSLB name', 'status', 'read'), response: { 200: nameModel, 404: errorReply, ...refusals('read') } } }, async (request, reply) => {
        const wanted = request.params.fqdn.toLowerCase().replace(/\.?$/, '.')
        return one(control.status().names.find((n) => n.name.toLowerCase() === wanted), `GSLB name '${request.params.fqdn}'`, reply)
      })

      // Why a client gets what it gets: the answer path's own steps for one question, as data.
      app.get<{ Querystring: { name: string; type?: 'A' | 'AAAA'; client: string; ecs?: string } }>('/v1/explain', {
        schema: {
          ...operation('explain', 'Why this client gets this answer', 'decisions', 'read'),
          querystring: { type: 'object', additionalProperties: false, required: ['name', 'client'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, type: { enum: ['A', 'AAAA'] }, client: { type: 'string', minLength: 1, maxLength: 64 }, ecs: { type: 'string', minLength: 1, maxLength: 64 } } },
          response: { 200: decisionReply, 400: errorReply, 404: errorReply, ...refusals('read') },
        },
      }, async (request, reply) => {
        const { name, type, client, ecs } = request.query
        const result = control.explain({ name, type: type ?? 'A', client, ecs })
        return result.ok ? result.explanation : reply.code(result.status).send({ error: result.message })
      })

      // What-if: the answers before and after hypothetical changes, shared out over the GeoIP
      // database's address space. A read: nothing changes.
      const whatIf = {
        type: 'object',
        additionalProperties: false,
        required: ['target'],
        properties: {
          target: { type: 'string', minLength: 1, maxLength: 255 },
          state: { enum: ['enabled', 'disabled', 'drain', 'up'] },
          weight: { type: 'integer', minimum: 0, maximum: MAX_WEIGHT },
          clear: { enum: ['state', 'weight', 'all'] },
          health: { enum: ['up', 'down'] },
        },
      } as const
      app.post<{ Body: { changes: WhatIf[] } }>('/v1/simulate', {
        schema: { ...operation('simulate', 'What-if: the answers before and after hypothetical changes (changes nothing)', 'decisions', 'read'), body: { type: 'object', additionalProperties: false, required: ['changes'], properties: { changes: { type: 'array', maxItems: 100, items: whatIf } } }, response: { 200: decisionReply, 400: errorReply, 404: errorReply, ...refusals('read') } },
      }, async (request, reply) => {
        const result = await control.simulate(request.body.changes)
        return result.ok ? result.simulation : reply.code(result.status).send({ error: result.message })
      })

      // The fleet: its instances, their zones and config, and who differs. 404 when this instance runs alone.
      app.get('/v1/fleet', { schema: { ...operation('fleet', "The fleet's instances and which differ", 'status', 'read'), response: { 200: decisionReply, 404: errorReply, ...refusals('read') } } }, async (_request, reply) =>
        control.fleet() ?? reply.code(404).send({ error: 'not in a fleet: the config has no cluster section' }))
      // Operator changes, oldest first: this machine's audit log, or in a fleet the whole fleet's from etcd.
      app.get<{ Querystring: { limit?: string } }>('/v1/audit', {
        schema: { ...operation('audit', 'The newest operator changes, oldest first', 'status', 'read'), querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$|^10000$' } } }, response: { 200: auditReply, 400: errorReply, ...refusals('read') } },
      }, async (request) => ({ entries: await control.audit(Number(request.query.limit ?? 100)) }))

      // Server-sent events: health transitions, answering-mode changes, admin changes, keepalived
      // events, reloads (and rejected ones), load; with ids, a backlog for Last-Event-ID and a heartbeat.
      app.get<{ Headers: { 'last-event-id'?: string } }>('/v1/events', { schema: { ...operation('events', 'Server-sent events (resume with Last-Event-ID)', 'status', 'read'), produces: ['text/event-stream'], response: { 200: textReply('text/event-stream: id, event and data lines per event; a heartbeat comment every 15 s'), 503: { ...errorReply, description: 'too many event streams are open' }, ...refusals('read') } } }, (request, reply) => {
        reply.hijack()
        const opened = events.open(reply.raw, request.headers['last-event-id'])
        if (!opened.ok) reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' }).end(JSON.stringify({ error: opened.message }))
      })

    })

    // A reload needs an admin token.
    void app.register(async (admins) => {
      admins.addHook('onRequest', requireToken('admin'))
      admins.post('/v1/reload', { schema: { ...operation('reload', 'Read config, keys, zones and GeoIP again: all or nothing', 'operator', 'admin'), response: { 200: reloadReply, 422: { ...rejectedReloadReply, description: 'problems found; nothing changed' }, ...refusals('admin') } } }, async (_request, reply) => {
        const result = await control.reload()
        if (result.ok) return { ok: true, zones: result.zones, changes: result.changes }
        return reply.code(422).send({ ok: false, problems: result.problems, zones: result.zones })
      })
    })

    // Operator writes: one encapsulated context whose every route needs an operate (or admin) token.
    void app.register(async (writes) => {
      // A write's reply comes once the control plane says every DNS worker thread answers with the change.
      writes.addHook('onRequest', requireToken('operate'))

      writes.post<{ Body: LbEvent }>('/v1/lb-events', {
        schema: {
          ...operation('lbEvent', "A keepalived notify: an LB node's VRRP state", 'operator', 'operate'),
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['site', 'node', 'state'],
            properties: { site: { type: 'string', minLength: 1 }, node: { type: 'string', minLength: 1 }, state: { enum: ['MASTER', 'BACKUP', 'FAULT', 'STOP'] } },
          },
          response: { 200: lbEventReply, 400: errorReply, 404: errorReply, ...refusals('operate') },
        },
      }, async (request, reply) => {
        const result = await control.lbEvent(request.body)
        return result.ok ? result : reply.code(404).send({ error: result.message })
      })

      // Admin state and weight of a server (site VIP) or a whole site.
      const targets = [
        { path: '/v1/servers/:address', param: 'address', noun: 'Server', target: (id: string): AdminTarget => ({ kind: 'server', address: id }) },
        { path: '/v1/sites/:site', param: 'site', noun: 'Site', target: (id: string): AdminTarget => ({ kind: 'site', site: id }) },
      ] as const
      for (const { path, param, noun, target } of targets) {
        const respond = async (id: string, change: AdminChange, request: FastifyRequest, reply: FastifyReply) => {
          const result = await control.setAdminState(target(id), change, request.actor)
          if (result.ok) return result.record ? { target: result.target, ...result.record } : { target: result.target, cleared: true }
          return reply.code(result.status).send(result.names ? { error: result.message, names: result.names } : { error: result.message })
        }
        const withWindow = async (id: string, body: { until?: string; for?: string }, change: AdminChange, request: FastifyRequest, reply: FastifyReply) => {
          const end = windowEnd(body, Date.now())
          if (!end.ok) return reply.code(400).send({ error: end.message })
          return respond(id, { ...change, until: end.until }, request, reply)
        }
        const responses = { 200: recordReply, 400: errorReply, 404: errorReply, 409: { ...conflictReply, description: 'the guard rail: the change leaves these names with no server (send force)' }, ...refusals('operate'), 503: { ...errorReply, description: 'no admin tokens are configured, or (in a fleet) etcd cannot commit' } }
        type Window = { until?: string; for?: string; force?: boolean }
        writes.put<{ Params: Record<string, string>; Body: Window & { state: NonNullable<AdminChange['state']>; reason: string } }>(`${path}/state`, {
          schema: { ...operation(`set${noun}State`, `Set a ${noun.toLowerCase()}'s admin state`, 'operator', 'operate'), body: { type: 'object', additionalProperties: false, required: ['state', 'reason'], properties: { state: { enum: ['enabled', 'disabled', 'drain', 'up'] }, reason, until, for: forDuration, force } }, response: responses },
        }, async (request, reply) => withWindow(request.params[param] as string, request.body, { state: request.body.state, reason: request.body.reason, force: request.body.force }, request, reply))
        writes.put<{ Params: Record<string, string>; Body: Window & { weight: number; reason: string } }>(`${path}/weight`, {
          schema: { ...operation(`set${noun}Weight`, `Set a ${noun.toLowerCase()}'s weight`, 'operator', 'operate'), body: { type: 'object', additionalProperties: false, required: ['weight', 'reason'], properties: { weight: { type: 'integer', minimum: 0, maximum: MAX_WEIGHT }, reason, until, for: forDuration, force } }, response: responses },
        }, async (request, reply) => withWindow(request.params[param] as string, request.body, { weight: request.body.weight, reason: request.body.reason, force: request.body.force }, request, reply))
        // Clearing an override: the state back to enabled, or the weight back to the configured one
        // (`?reason=…` for the audit log, `&force=true` past the guard rail).
        for (const part of ['state', 'weight'] as const) {
          writes.delete<{ Params: Record<string, string>; Querystring: { reason?: string; force?: 'true' | 'false' } }>(`${path}/${part}`, {
            schema: { ...operation(`clear${noun}${part === 'state' ? 'State' : 'Weight'}`, `Clear a ${noun.toLowerCase()}'s ${part} override`, 'operator', 'operate'), querystring: { type: 'object', additionalProperties: false, properties: { reason, force: { enum: ['true', 'false'] } } }, response: responses },
          }, async (request, reply) => respond(request.params[param] as string, { clear: part, reason: request.query.reason ?? `${part} override cleared`, force: request.query.force === 'true' }, request, reply))
        }
      }
    })
  })
  return app as unknown as FastifyInstance
}
