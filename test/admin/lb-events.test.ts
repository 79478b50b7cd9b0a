// POST /v1/lb-events (keepalived notify) through fastify's inject(): auth, validation, outcomes.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../admin/app.ts'
import type { LbEvent } from '../../server/state/control.ts'
import { fakeControl } from '../support/fake-control.ts'

function app(token: string | undefined) {
  const events: LbEvent[] = []
  const instance = buildAdminApp({
    maxConnections: 64,
    logger: pino({ level: 'silent' }),
    control: fakeControl({
      settings: () => ({ tokens: new Map(token ? [['ops', { token, role: 'operate' as const }]] : []), protectReads: false, logLevel: 'info' }),
      lbEvent: async (event) => {
        if (event.site !== 'tokyo') return { ok: false, message: `no site named '${event.site}'` }
        events.push(event)
        return { ok: true, shared: false }
      },
    }),
  })
  return { instance, events }
}

const post = (token: string | undefined, body: unknown, auth?: string) =>
  app(token).instance.inject({ method: 'POST', url: '/v1/lb-events', payload: body as object, headers: auth ? { authorization: auth } : {} })

describe('POST /v1/lb-events', () => {
  it('applies an event with the right token', async () => {
    const { instance, events } = app('s3cret')
    const reply = await instance.inject({ method: 'POST', url: '/v1/lb-events', payload: { site: 'tokyo', node: 'tokyo-lb1', state: 'FAULT' }, headers: { authorization: 'Bearer s3cret' } })
    expect(reply.statusCode).toBe(200)
    expect(events).toEqual([{ site: 'tokyo', node: 'tokyo-lb1', state: 'FAULT' }])
  })

  it.each([
    ['no token configured: writes are off', undefined, { site: 'tokyo', node: 'n', state: 'FAULT' }, 'Bearer x', 503],
    ['no Authorization header', 's3cret', { site: 'tokyo', node: 'n', state: 'FAULT' }, undefined, 401],
    ['a wrong token', 's3cret', { site: 'tokyo', node: 'n', state: 'FAULT' }, 'Bearer nope', 401],
    ['an unknown state', 's3cret', { site: 'tokyo', node: 'n', state: 'BROKEN' }, 'Bearer s3cret', 400],
    ['a missing field', 's3cret', { site: 'tokyo', state: 'FAULT' }, 'Bearer s3cret', 400],
    ['an unknown site', 's3cret', { site: 'mars', node: 'n', state: 'FAULT' }, 'Bearer s3cret', 404],
  ])('refuses %s', async (_name, token, body, auth, status) => {
    const reply = await post(token, body, auth)
    expect(reply.statusCode).toBe(status)
    expect(reply.json()).toEqual({ error: expect.any(String) })
    if (status === 400) expect(reply.json().error).toMatch(/^body/)
  })
})
