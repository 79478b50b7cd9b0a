// DNS over TCP per RFC 7766, with raw sockets: pipelining, partial reads, idle timeout, the cap.

import { readFileSync } from 'node:fs'
import net from 'node:net'
import dns2 from 'dns2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { buildQuery } from '../support/query.ts'
import { spawnSignpost } from '../support/process.ts'
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
function connect(port = server.port, localAddress?: string): Promise<{ socket: net.Socket; replies: () => ReturnType<typeof dns2.Packet.parse>[]; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) })
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

it('past the cap, closes the connection that completed a query longest ago to admit a newcomer; clients that keep asking keep theirs', async () => {
  const [idle, ...busy] = await Promise.all(Array.from({ length: 5 }, () => connect()))
  for (const [i, c] of busy.entries()) c.socket.write(frame(buildQuery('www.example.test', RRType.A, { id: 100 + i })))
  await until(() => busy.every((c) => c.replies().length === 1))
  const extra = await connect()
  expect(await idle!.closed).toBeLessThan(1000)
  extra.socket.write(frame(buildQuery('www.example.test', RRType.A, { id: 7 })))
  await until(() => extra.replies().length === 1)
  expect(extra.replies().map((r) => r.header.id)).toEqual([7])
  // The ones that asked are still open, and still answered.
  for (const [i, c] of busy.entries()) c.socket.write(frame(buildQuery('www.example.test', RRType.A, { id: 200 + i })))
  await until(() => busy.every((c) => c.replies().length === 2))
  expect(busy.map((c) => c.replies().length)).toEqual([2, 2, 2, 2])
  for (const c of [extra, ...busy]) c.socket.destroy()
})

describe('one client against the others', () => {
  it('one address holding 2,000 idle connections takes its 32 and locks no other client out', async () => {
    const other = await startTestServer('test/fixtures/zones/basic')
    const hog: net.Socket[] = []
    try {
      // In batches of 100, each batch connected before the next: the address asks for 2,000 in all.
      for (let batch = 0; batch < 20; batch++) {
        const opened = await Promise.all(Array.from({ length: 100 }, () => connect(other.port, '127.0.0.7')))
        hog.push(...opened.map((c) => c.socket))
      }
      await until(() => hog.filter((s) => !s.destroyed).length <= 32)
      expect(hog.filter((s) => !s.destroyed).length).toBe(32)
      let answered = 0
      for (let i = 0; i < 200; i++) {
        const c = await connect(other.port, '127.0.0.8')
        c.socket.write(frame(buildQuery('www.example.test', RRType.A, { id: i })))
        await until(() => c.replies().length === 1 || c.socket.destroyed)
        if (c.replies().length === 1) answered++
        c.socket.destroy()
      }
      console.log(`TCP queries answered for a second client while one address held 2,000 idle connections: ${answered} of 200`)
      expect(answered).toBe(200)
    } finally {
      for (const socket of hog) socket.destroy()
      await other.close()
    }
  })

  it('partial 64 KiB messages from 200 slow senders stay within the buffer cap, and the memory comes back', async () => {
    const server = await spawnSignpost(['--zones', 'test/fixtures/zones/basic', '--workers', '0'])
    const pid = server.child.pid!
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
    const senders: net.Socket[] = []
    try {
      const before = rss()
      let peak = before
      const opened = await Promise.all(Array.from({ length: 200 }, (_, i) => connect(server.port, `127.0.6.${(i % 200) + 1}`)))
      for (const c of opened) {
        senders.push(c.socket)
        c.socket.write(Uint8Array.of(0xff, 0xff)) // a 65,535-byte message announced
      }
      // 63 KiB of it, 1 KiB per write per sender, never the whole message.
      for (let kib = 0; kib < 63; kib++) {
        for (const socket of senders) if (!socket.destroyed) socket.write(Buffer.alloc(1024, kib))
        await new Promise((r) => setTimeout(r, 5))
        peak = Math.max(peak, rss())
      }
      await new Promise((r) => setTimeout(r, 200))
      peak = Math.max(peak, rss())
      const held = senders.filter((s) => !s.destroyed).length
      for (const socket of senders) socket.destroy()
      // The server gives a flood's memory back a second after it is over.
      await new Promise((r) => setTimeout(r, 2000))
      const after = rss()
      console.log(`RSS with 200 slow 64 KiB senders: before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB; ${held} senders kept (8 MiB cap)`)
      expect(held).toBeLessThanOrEqual(128)
      expect(peak - before).toBeLessThanOrEqual(64)
      expect(after - before).toBeLessThanOrEqual(16)
      // Still answering.
      const c = await connect(server.port)
      c.socket.write(frame(buildQuery('www.example.test', RRType.A, { id: 1 })))
      await until(() => c.replies().length === 1)
      expect(c.replies()).toHaveLength(1)
      c.socket.destroy()
    } finally {
      for (const socket of senders) socket.destroy()
      await server.stop()
    }
  })
})
