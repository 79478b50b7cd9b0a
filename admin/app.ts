// The admin HTTP API (fastify). It talks to the server only through the narrow dependencies it
// is given; it never touches sockets or zone internals. No listen() here, so tests use inject().

import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { AdminStateName } from '../server/config/schema.ts'
import type { AdminChange, AdminResult, AdminTarget } from '../server/state/admin-control.ts'
import type { LbEvent, LbEventResult } from '../server/start.ts'
import { bearerMatches } from './auth.ts'

export type AdminDeps = {
  /** How many zones the current snapshot serves. */
  readonly zonesLoaded: () => number
  readonly lbEvent: (event: LbEvent) => LbEventResult
  readonly setAdminState: (target: AdminTarget, change: AdminChange, actor: string) => AdminResult
  /** Token every write must present as `Authorization: Bearer …`; without one, writes are refused. */
  readonly writeToken: string | undefined
  readonly logger: Logger
}

const healthzReply = { type: 'object', properties: { status: { type: 'string' }, zones: { type: 'integer' } } } as const
const errorReply = { type: 'object', properties: { error: { type: 'string' } } } as const
const reason = { type: 'string', minLength: 1, maxLength: 500 } as const
const recordReply = {
  type: 'object',
  properties: { state: { type: 'string' }, weight: { type: 'integer' }, reason: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' } },
} as const

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger, bodyLimit: 64 * 1024 })

  app.get('/healthz', { schema: { response: { 200: healthzReply, 503: healthzReply } } }, async (_request, reply) => {
    const zones = deps.zonesLoaded()
    return reply.code(zones > 0 ? 200 : 503).send({ status: zones > 0 ? 'ok' : 'no zones loaded', zones })
  })

  // Writes: one encapsulated context whose every route needs the bearer token.
  void app.register(async (writes) => {
    writes.addHook('onRequest', async (request, reply) => {
      if (deps.writeToken === undefined) return reply.code(503).send({ error: 'admin writes are off: set SIGNPOST_ADMIN_TOKEN' })
      if (!bearerMatches(request.headers.authorization, deps.writeToken)) return reply.code(401).send({ error: 'missing or wrong bearer token' })
    })

    writes.post<{ Body: LbEvent }>('/v1/lb-events', {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['site', 'node', 'state'],
          properties: { site: { type: 'string', minLength: 1 }, node: { type: 'string', minLength: 1 }, state: { enum: ['MASTER', 'BACKUP', 'FAULT', 'STOP'] } },
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, 404: errorReply },
      },
    }, async (request, reply) => {
      const result = deps.lbEvent(request.body)
      return result.ok ? { ok: true } : reply.code(404).send({ error: result.message })
    })

    // Admin state and weight of a server (site VIP) or a whole site.
    const targets = [
      { path: '/v1/servers/:address', param: 'address', target: (id: string): AdminTarget => ({ kind: 'server', address: id }) },
      { path: '/v1/sites/:site', param: 'site', target: (id: string): AdminTarget => ({ kind: 'site', site: id }) },
    ] as const
    for (const { path, param, target } of targets) {
      const respond = (id: string, change: AdminChange, reply: { code(n: number): { send(body: unknown): unknown } }) => {
        const result = deps.setAdminState(target(id), change, 'admin')
        return result.ok ? result.record : reply.code(result.status).send({ error: result.message })
      }
      writes.put<{ Params: Record<string, string>; Body: { state: AdminStateName; reason: string } }>(`${path}/state`, {
        schema: {
          body: { type: 'object', additionalProperties: false, required: ['state', 'reason'], properties: { state: { enum: ['enabled', 'disabled', 'drain', 'up'] }, reason } },
          response: { 200: recordReply, 404: errorReply },
        },
      }, async (request, reply) => respond(request.params[param] as string, { state: request.body.state, reason: request.body.reason }, reply))
      writes.put<{ Params: Record<string, string>; Body: { weight: number; reason: string } }>(`${path}/weight`, {
        schema: {
          body: { type: 'object', additionalProperties: false, required: ['weight', 'reason'], properties: { weight: { type: 'integer', minimum: 0, maximum: 1000 }, reason } },
          response: { 200: recordReply, 404: errorReply },
        },
      }, async (request, reply) => respond(request.params[param] as string, { weight: request.body.weight, reason: request.body.reason }, reply))
    }
  })
  return app as unknown as FastifyInstance
}
