// Bad input never hurts: junk datagrams and broken TCP streams (seeded, bounded) sent at a real
// server process, which must stay up and keep answering correctly.

import dgram from 'node:dgram'
import net from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { dig } from '../support/dig.ts'
import { spawnSignpost, type ServerProcess } from '../support/process.ts'
import { buildQuery } from '../support/query.ts'
import { fuzzPacket, seededRandom } from '../support/random.ts'

let server: ServerProcess

beforeAll(async () => {
  server = await spawnSignpost(['--zones', 'test/fixtures/zones/basic'])
})
afterAll(async () => {
  await server.stop()
})

const seeds = [
  buildQuery('www.example.test', RRType.A),
  buildQuery('big.example.test', RRType.TXT, { edns: { udpSize: 4096 } }),
  buildQuery('x.wild.example.test', RRType.ANY, { edns: { options: [{ code: 8, data: Buffer.of(0, 1, 24, 0, 81, 2, 69) }] } }),
  buildQuery('www.sub.example.test', RRType.A),
]

async function expectHealthy(): Promise<void> {
  expect(server.child.exitCode).toBeNull()
  // From another /24: the rate limiter rightly holds 127.0.0.0/24, which the fuzzing came from.
  const udp = await dig(server.port, ['-b', '127.0.100.1', 'www.example.test', 'A'])
  expect(udp.answer).toHaveLength(3)
  const tcp = await dig(server.port, ['+tcp', 'chain.example.test', 'A'])
  expect(tcp.answer).toHaveLength(5)
  expect(server.logs.filter((l) => (l['level'] as number) >= 50)).toEqual([])
}

it('survives 100,000 random and mutated datagrams', async () => {
  const random = seededRandom(7)
  // A big receive buffer: replies (some of them KBs) pile up while this loop is still sending, and
  // the count should measure the server, not drops at this socket.
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  let replies = 0
  socket.on('message', () => replies++)
  for (let sent = 0; sent < 100_000; sent += 500) {
    await Promise.all(Array.from({ length: 500 }, () => new Promise<void>((resolve) => socket.send(fuzzPacket(random, seeds), server.port, '127.0.0.1', () => resolve()))))
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  socket.close()
  // Most junk is dropped or FORMERR'd; replies show the server was working through it all along.
  expect(replies).toBeGreaterThan(1000)
  await expectHealthy()
})

it('survives 1,000 broken TCP streams', async () => {
  const random = seededRandom(11)
  const int = (n: number): number => Math.floor(random() * n)
  const stream = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1')
      socket.on('error', () => resolve())
      socket.on('close', () => resolve())
      socket.on('data', () => undefined)
      socket.on('connect', () => {
        const packet = fuzzPacket(random, seeds)
        const framed = Buffer.alloc(2 + packet.length)
        // Lengths that lie (short, long, zero) as often as honest ones.
        framed.writeUInt16BE([packet.length, packet.length + 1 + int(100), int(packet.length + 1), 0][int(4)] as number)
        framed.set(packet, 2)
        const cut = int(framed.length + 1)
        socket.write(framed.subarray(0, cut))
        setTimeout(() => (int(2) === 0 ? socket.destroy() : socket.end()), int(20))
      })
    })
  for (let done = 0; done < 1000; done += 50) await Promise.all(Array.from({ length: 50 }, stream))
  await expectHealthy()
})
