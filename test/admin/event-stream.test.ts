// GET /v1/events on a real socket: ids, resuming with Last-Event-ID from the backlog (and a gap
// event when that cannot be whole), the heartbeat comment, and the cap on open streams.

import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../admin/app.ts'
import type { ControlEvent } from '../../server/state/control.ts'
import { fakeControl } from '../support/fake-control.ts'
import { until } from '../support/wait.ts'

const apps: { close(): Promise<unknown> }[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

async function serve(limits = { maxClients: 3, heartbeatMs: 60_000 }) {
  const listeners = new Set<(event: ControlEvent) => void>()
  const app = buildAdminApp({
    maxConnections: 64,
    logger: pino({ level: 'silent' }),
    eventStream: limits,
    control: fakeControl({
      subscribe: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    }),
  })
  apps.push(app)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const emit = (n: number) => {
    for (const listener of listeners) listener({ type: 'health', at: '2026-12-02T00:00:00.000Z', n })
  }
  return { url: `${address}/v1/events`, emit }
}

/** Opens a stream and collects its text until closed. */
async function open(url: string, lastEventId?: string) {
  const controller = new AbortController()
  const response = await fetch(url, { signal: controller.signal, headers: lastEventId ? { 'last-event-id': lastEventId } : {} })
  let text = ''
  if (response.ok) void (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        text += value
      }
    } catch {
      // aborted
    }
  })()
  return { response, text: () => text, close: () => controller.abort() }
}

const ids = (text: string): string[] => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1] as string)

describe('GET /v1/events', () => {
  it('gives every event an id, and a client coming back with Last-Event-ID gets exactly what it missed', async () => {
    const { url, emit } = await serve()
    const first = await open(url)
    await until(async () => first.text().includes(': signpost events'), 2000, 'the stream opens')
    emit(1)
    emit(2)
    await until(async () => ids(first.text()).length === 2, 2000, 'two events')
    const seen = ids(first.text())[0] as string
    first.close()
    emit(3)
    const again = await open(url, seen)
    await until(async () => ids(again.text()).length === 2, 2000, 'the two missed events')
    expect(again.text()).toMatch(/"n":2[\s\S]*"n":3/)
    expect(again.text()).not.toContain('"n":1')
    expect(again.text()).not.toContain('event: gap')
    again.close()
  })

  it('an id from another run of the server gets a gap event: read status again', async () => {
    const { url, emit } = await serve()
    emit(1)
    const stale = await open(url, 'zzzz-7')
    await until(async () => stale.text().includes('event: gap'), 2000, 'a gap event')
    expect(stale.text()).toContain('the event id is from another run of the server')
    stale.close()
  })

  it('sends a heartbeat comment on a quiet stream', async () => {
    const { url } = await serve({ maxClients: 3, heartbeatMs: 100 })
    const quiet = await open(url)
    await until(async () => quiet.text().includes(': heartbeat\n\n'), 2000, 'a heartbeat')
    quiet.close()
  })

  it('refuses streams past the cap with 503, and takes one again when a stream closes', async () => {
    const { url } = await serve({ maxClients: 2, heartbeatMs: 60_000 })
    const streams = [await open(url), await open(url)]
    const third = await open(url)
    expect(third.response.status).toBe(503)
    expect(await third.response.json()).toEqual({ error: '2 event streams are open already; try again later' })
    streams[0]?.close()
    await until(async () => (await open(url)).response.status === 200, 2000, 'a stream once one closed')
    for (const stream of streams) stream.close()
  })
})
