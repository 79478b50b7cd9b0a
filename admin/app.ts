// The admin HTTP API (fastify). It talks to the server only through the narrow dependencies it
// is given; it never touches sockets or zone internals. No listen() here, so tests use inject().

import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export type AdminDeps = {
  /** How many zones the current snapshot serves. */
  readonly zonesLoaded: () => number
  readonly logger: Logger
}

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger, bodyLimit: 64 * 1024 })
  app.get('/healthz', {
    schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' }, zones: { type: 'integer' } } }, 503: { type: 'object', properties: { status: { type: 'string' }, zones: { type: 'integer' } } } } },
  }, async (_request, reply) => {
    const zones = deps.zonesLoaded()
    return reply.code(zones > 0 ? 200 : 503).send({ status: zones > 0 ? 'ok' : 'no zones loaded', zones })
  })
  return app as unknown as FastifyInstance
}
