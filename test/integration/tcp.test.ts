// DNS over TCP per RFC 7766, with raw sockets: pipelining, partial reads, idle timeout, the cap.

import net from 'node:net'
import dns2 from 'dns2'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { buildQuery } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'

let server: Awaited<ReturnType<typeof startTestServer>>

beforeAll(async () => {
  server = await startTestServer('test/fixtures/zones/basic', { idleTimeoutMs: 400, maxConnections: 5 })
})
afterAll(async () => {
  await server.close()
})

function frame(packet: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + packet.length)
  out.writeUInt16BE(packet.length)
  out.set(packet, 2)
  return out
}

/** Reads framed replies until `count` have arrived or the server closes. */
function connect(): Promise<{ socket: net.Socket; replies: () => ReturnType<typeof dns2.Packet.parse>[]; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1')
    let data = Buffer.alloc(0)
    const opened = Date.now()
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - opened)))
    socket.on('data', (chunk) => (data = Buffer.concat([data, chunk])))
    socket.on('error', () => undefined)
    const replies = () => {
      const out = []
      for (let at = 0; at + 2 <= data.length; ) {
        const length = data.readUInt16BE(at)
        if (at + 2 + length > data.length) break
        out.push(dns2.Packet.parse(data.subarray(at + 2, at + 2 + length)))
        at += 2 + length
      }
      return out
    }
    socket.on('connect', () => resolve({ socket, replies, closed }))
  })
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

it('answers pipelined queries sent in one write, in order', async () => {
  const c = await connect()
  c.socket.write(Buffer.concat([1, 2, 3].map((id) => frame(buildQuery(id === 2 ? 'missing.example.test' : 'www.example.test', RRType.A, { id })))))
  await until(() => c.replies().length === 3)
  expect(c.replies().map((r) => [r.header.id, r.header.rcode])).toEqual([[1, 0], [2, 3], [3, 0]])
  c.socket.destroy()
})

it('reassembles a query that arrives one byte at a time', async () => {
  const c = await connect()
  const bytes = frame(buildQuery('www.example.test', RRType.A, { id: 9 }))
  for (const byte of bytes) {
    c.socket.write(Uint8Array.of(byte))
    await new Promise((r) => setTimeout(r, 2))
  }
  await until(() => c.replies().length === 1)
  expect(c.replies()[0]?.answers).toHaveLength(3)
  c.socket.destroy()
})

it('closes an idle connection after the idle timeout, even while bytes dribble in', async () => {
  const c = await connect()
  // A length prefix of 256, then one byte every 100 ms: no whole query, so the idle timer keeps running.
  c.socket.write(Uint8Array.of(1, 0))
  const dribble = setInterval(() => c.socket.write(Uint8Array.of(0)), 100)
  const lifetime = await c.closed
  clearInterval(dribble)
  expect(lifetime).toBeGreaterThanOrEqual(350)
  expect(lifetime).toBeLessThan(2000)
})

it('refuses connections beyond the cap and serves again once they close', async () => {
  const open = await Promise.all(Array.from({ length: 5 }, connect))
  const extra = await connect()
  const extraLifetime = await extra.closed
  expect(extraLifetime).toBeLessThan(300)
  for (const c of open) c.socket.destroy()
  await new Promise((r) => setTimeout(r, 50))
  const again = await connect()
  again.socket.write(frame(buildQuery('www.example.test', RRType.A)))
  await until(() => again.replies().length === 1)
  expect(again.replies()).toHaveLength(1)
  again.socket.destroy()
})
