// Replies are written into buffers lent by size (server/dns/wire/reply-buffer.ts). A UDP send that
// Node queues instead of making at once reads its buffer later, after more replies were encoded:
// the listener must keep that buffer from being lent again. Node's --test-udp-no-try-send queues
// sends the way a full socket buffer does, so a burst of queries of one reply size shows any reply
// overwritten.

import dgram from 'node:dgram'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dns2 from 'dns2'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { spawnSignpost, type ServerProcess } from '../support/process.ts'
import { buildQuery } from '../support/query.ts'

const NAMES = 90 // h10 … h99: one name length, so one reply size, each with its own address
const ROUNDS = 5

let server: ServerProcess

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-udp-replies-'))
  const hosts = Array.from({ length: NAMES }, (_, i) => `h${i + 10} A 10.0.0.${i + 10}`).join('\n')
  writeFileSync(join(dir, 'lent.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${hosts}\n`)
  server = await spawnSignpost(['--zones', dir, '--workers', '1'], ['--test-udp-no-try-send'])
})
afterAll(async () => {
  await server.stop()
})

it('answers every query of a burst with its own reply while Node queues the sends', async () => {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const answers = new Map<number, string>()
  socket.on('message', (reply) => {
    const packet = dns2.Packet.parse(reply)
    answers.set(packet.header.id, `${packet.questions[0]?.name} ${(packet.answers[0] as { address?: string } | undefined)?.address}`)
  })
  const expected = new Map<number, string>()
  const burst: Promise<void>[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < NAMES; i++) {
      const id = round * NAMES + i
      const name = `h${i + 10}.lent.test`
      expected.set(id, `${name} 10.0.0.${i + 10}`)
      burst.push(new Promise((resolve) => socket.send(buildQuery(name, RRType.A, { id }), server.port, '127.0.0.1', () => resolve())))
    }
  }
  await Promise.all(burst)
  const deadline = Date.now() + 5000
  while (answers.size < expected.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  socket.close()
  expect(answers).toEqual(expected)
})
