// The server-sent event stream behind GET /v1/events: every control-plane event gets an id and is
// kept in a bounded backlog, so a client that reconnects with Last-Event-ID gets what it missed
// (or a `gap` event saying it must read status again: the events are older than the backlog, or
// from before a restart); a comment every 15 s keeps proxies from closing a quiet stream; and at
// most `maxClients` streams are open at once.

import type { ServerResponse } from 'node:http'
import type { ControlEvent } from '../server/state/control.ts'

export const BACKLOG = 1000

/** How many streams may be open, and how often a quiet one gets a comment (15 s in service). */
export type EventStreamLimits = { readonly maxClients: number; readonly heartbeatMs: number }
export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = { maxClients: 100, heartbeatMs: 15_000 }

export type EventStream = {
  /** Starts streaming to `response`, or says why not (too many streams open). */
  open(response: ServerResponse, lastEventId: string | undefined): { ok: true } | { ok: false; message: string }
  /** Ends every stream (the app is closing). */
  close(): void
}

/** `subscribe`: the control plane's events, from now on. Ids are `<this process's start>-<n>`, so one from before a restart is known as such. */
export function createEventStream(subscribe: (listener: (event: ControlEvent) => void) => () => void, limits: EventStreamLimits): EventStream {
  const { maxClients } = limits
  const epoch = Date.now().toString(36)
  let next = 1
  const backlog: { id: number; text: string }[] = []
  const clients = new Set<ServerResponse>()
  const frame = (id: number, event: ControlEvent): string => `id: ${epoch}-${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
  const unsubscribe = subscribe((event) => {
    const id = next++
    const text = frame(id, event)
    backlog.push({ id, text })
    if (backlog.length > BACKLOG) backlog.shift()
    for (const client of clients) client.write(text)
  })
  const heartbeat = setInterval(() => {
    for (const client of clients) client.write(': heartbeat\n\n')
  }, limits.heartbeatMs)
  heartbeat.unref()

  /** What a client that saw `lastEventId` missed: the backlog after it, or a gap when that is not all. */
  const missed = (lastEventId: string): string => {
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId.trim())
    const seen = match && match[1] === epoch ? Number(match[2]) : undefined
    const kept = backlog.filter((e) => seen !== undefined && e.id > seen).map((e) => e.text).join('')
    // Whole when the backlog still holds every event after `seen` (with none held: none came since).
    const complete = seen !== undefined && seen < next && seen >= (backlog[0]?.id ?? next) - 1
    if (complete) return kept
    const why = seen === undefined ? 'the event id is from another run of the server' : 'events were missed beyond the backlog'
    return `event: gap\ndata: ${JSON.stringify({ type: 'gap', at: new Date().toISOString(), reason: `${why}: read /v1/status again` })}\n\n`
  }

  return {
    open(response, lastEventId) {
      if (clients.size >= maxClients) return { ok: false, message: `${maxClients} event streams are open already; try again later` }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
      response.write(`: signpost events\nretry: 2000\n\n${lastEventId === undefined ? '' : missed(lastEventId)}`)
      clients.add(response)
      response.once('close', () => clients.delete(response))
      return { ok: true }
    },
    close() {
      clearInterval(heartbeat)
      unsubscribe()
      for (const client of clients) client.end()
    },
  }
}
