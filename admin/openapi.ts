// What the OpenAPI document (/docs/json) says besides each route's own schema: who may call an
// operation (the bearer scheme and the role it needs), the refusals that follow from that, and the
// reply models. Models of replies that carry more than they name keep `additionalProperties`, so
// the serializer never drops a field the document forgot.

import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'

/** Who may call an operation: anyone, readers (a token only when protect_reads is on), or a token with the operate or admin role. */
export type Access = 'public' | 'read' | 'operate' | 'admin'

export const errorReply = { type: 'object', required: ['error'], properties: { error: { type: 'string', description: 'why, in words' } } } as const
/** The guard rail's refusal: the GSLB names (and record types) the change would leave with no server. */
export const conflictReply = { type: 'object', required: ['error', 'names'], properties: { error: { type: 'string' }, names: { type: 'array', items: { type: 'string' } } } } as const
const open = { type: 'object', additionalProperties: true } as const
const problem = { type: 'object', properties: { code: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' }, message: { type: 'string' } } } as const
const zone = { type: 'object', properties: { name: { type: 'string' }, serial: { type: 'integer' }, file: { type: 'string' } } } as const
const target = { type: 'object', properties: { kind: { type: 'string', enum: ['server', 'site'] }, address: { type: 'string' }, site: { type: 'string' } } } as const
const override = { type: 'object', nullable: true, properties: { state: { type: 'string' }, weight: { type: 'integer' }, reason: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' }, until: { type: 'string' } } } as const
const family = { type: 'object', nullable: true, properties: { reason: { type: 'string', enum: ['healthy', 'drain-only', 'fail-open', 'fallback', 'nodata', 'servfail'] }, answering: { type: 'array', items: { type: 'string' } }, shed: { type: 'array', items: { type: 'string' } } } } as const

export const healthzReply = { type: 'object', properties: { status: { type: 'string' }, zones: { type: 'integer' } } } as const
export const recordReply = {
  type: 'object',
  properties: { target, state: { type: 'string' }, weight: { type: 'integer' }, reason: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' }, until: { type: 'string' }, cleared: { type: 'boolean' } },
} as const
export const nameModel = {
  ...open,
  properties: { name: { type: 'string' }, policy: { type: 'string', enum: ['weighted', 'failover', 'nearest', 'all'] }, load: { type: 'string' }, ttl: { type: 'integer' }, maxAnswers: { type: 'integer' }, v4: family, v6: family, servers: { type: 'array', items: open } },
} as const
export const siteModel = {
  ...open,
  properties: { name: { type: 'string' }, location: { ...open, nullable: true }, admin: override, vips: { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, health: { type: 'string' } } } }, lbPair: open, load: { ...open, nullable: true } },
} as const
export const serverModel = {
  ...open,
  properties: {
    address: { type: 'string' }, site: { type: 'string' }, health: { type: 'string', enum: ['up', 'down', 'unknown'] }, eligibility: { type: 'string', enum: ['in', 'drain', 'out'] },
    admin: { type: 'object', properties: { state: { type: 'string' }, own: override } }, lastProbe: { ...open, nullable: true }, latencyMs: { type: 'number', nullable: true }, lastChange: { type: 'number', nullable: true, description: 'ms since the epoch' }, transitions: { type: 'array', items: open },
  },
} as const
export const statusReply = {
  ...open,
  properties: { generation: { type: 'integer' }, fleet: open, names: { type: 'array', items: nameModel }, sites: { type: 'array', items: siteModel }, servers: { type: 'array', items: serverModel }, orphanedOverrides: { type: 'array', items: open } },
} as const
export const reloadReply = { type: 'object', properties: { ok: { type: 'boolean' }, zones: { type: 'array', items: zone }, changes: open } } as const
export const rejectedReloadReply = { type: 'object', properties: { ok: { type: 'boolean' }, problems: { type: 'array', items: problem }, zones: { type: 'array', items: zone } } } as const
export const auditReply = { type: 'object', properties: { entries: { type: 'array', items: open } } } as const
export const lbEventReply = { type: 'object', properties: { ok: { type: 'boolean' }, shared: { type: 'boolean' }, problem: { type: 'string' } } } as const
/** Explain, what-if and the fleet: decision data whose shape README documents. */
export const decisionReply = open
/** A reply that is not JSON (Prometheus text, an event stream, the console's files). */
export const textReply = (description: string) => ({ description, type: 'string' }) as const

const ROLE: Record<Exclude<Access, 'public' | 'read'>, string> = { operate: 'a token with the operate or admin role', admin: 'a token with the admin role' }

/** The operation's name, summary, tag and security, and the refusals its access brings. */
export function operation(operationId: string, summary: string, tag: string, access: Access): Record<string, unknown> {
  const security = access === 'public' ? [] : access === 'read' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }]
  const description = access === 'read' ? 'Open, unless admin.protect_reads: then any token.' : access === 'public' ? 'Open to all, whatever protect_reads says.' : `Needs ${ROLE[access]}.`
  return { operationId, summary, description, tags: [tag], security }
}

/** Replies every operation of `access` may give besides its own: 401 and 403 from the token check, 503 when no token is configured. */
export function refusals(access: Access): Record<number, unknown> {
  if (access === 'public') return {}
  if (access === 'read') return { 401: { ...errorReply, description: 'protect_reads is on and no valid token was given' } }
  return {
    401: { ...errorReply, description: 'no bearer token, or not one of ours' },
    403: { ...errorReply, description: "the token's role does not allow this" },
    503: { ...errorReply, description: 'no admin tokens are configured, so writes are off' },
  }
}

/** The document's frame: title, licence, the default server, the bearer scheme and the tags. */
export const OPENAPI: NonNullable<FastifyDynamicSwaggerOptions['openapi']> = {
  openapi: '3.0.3',
  info: {
    title: 'Signpost admin API',
    version: '1',
    description: 'Status, explanations, what-ifs and operator changes of a Signpost GSLB (README "Admin API").',
    license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
  },
  servers: [{ url: 'http://127.0.0.1:8053', description: 'the default admin.listen' }],
  components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'an admin token (SIGNPOST_ADMIN_TOKEN or admin.tokens_file); its role (read, operate, admin) says what it may do' } } },
  tags: [
    { name: 'health', description: 'liveness and metrics' },
    { name: 'status', description: 'what the server answers now and why' },
    { name: 'decisions', description: 'explain and what-if' },
    { name: 'operator', description: 'state, weight, keepalived events, reload' },
    { name: 'console', description: 'the operator console page and its files' },
  ],
}
