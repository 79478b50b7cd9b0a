// Abuse defence with real sockets: a flood from one loopback prefix (127.0.9.0/24) is held to the
// rate while another prefix (127.0.77.1) gets every answer; a limited client gets its answer over
// TCP after a slip (real dig); a client with a valid cookie is never limited (raw packets, and real
// dig following BADCOOKIE); a flood of random prefixes leaves the table its size; exempt networks
// and a reload that turns the limiter off.

import dgram from 'node:dgram'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildQuery, readReply, type Reply } from '../support/query.ts'
import { startTestServer, type LogSink } from '../support/server.ts'
import { until } from '../support/wait.ts'
import { RRType } from '../../server/dns/types.ts'

const run = promisify(execFile)
const TOKEN = 'abuse-test-token'
const RATE = 10
const BIG = 'big.abuse.test'
// ~800 bytes of TXT: what a reflector would ask for.
const TXT = Array.from({ length: 8 }, (_, i) => `"${String(i).repeat(95)}"`).join(' ')
const CLIENT_COOKIE = Buffer.from('0123456789abcdef', 'hex')

const config = (extra = ''): string => `rrl:
  responses_per_second: ${RATE}
  slip: 2
  window_s: 5
  table_size: 1024
  exempt: [127.0.50.0/24]
${extra}`

let dir: string
let server: Awaited<ReturnType<typeof startTestServer>>
const logs: LogSink = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signpost-abuse-'))
  writeFileSync(join(dir, 'abuse.test.zone'), `$ORIGIN abuse.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
     NS  ns1
ns1  A   192.0.2.53
www  A   192.0.2.1
big  TXT ${TXT}
*.wild TXT ${TXT}
`)
  writeFileSync(join(dir, 'signpost.yaml'), config())
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), adminToken: TOKEN, logs })
})
afterAll(async () => {
  await server?.close()
})

/** A UDP client bound to one loopback address; every reply it gets, read. */
async function clientAt(address: string): Promise<{ send(packet: Buffer): void; sent(packet: Buffer): Promise<void>; replies: Reply[]; close(): void }> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 })
  await new Promise<void>((resolve) => socket.bind(0, address, resolve))
  const replies: Reply[] = []
  socket.on('message', (bytes) => replies.push(readReply(bytes)))
  return {
    send: (packet) => socket.send(packet, server.port, '127.0.0.1'),
    sent: (packet) => new Promise((resolve) => socket.send(packet, server.port, '127.0.0.1', () => resolve())),
    replies,
    close: () => socket.close(),
  }
}

const bigQuery = (id: number, cookie?: Buffer): Buffer =>
  buildQuery(BIG, RRType.TXT, { id, edns: { udpSize: 1232, ...(cookie ? { options: [{ code: 10, data: cookie }] } : {}) } })

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://${server.adminAddress}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line ? Number(line.split(' ')[1]) : 0
}

const limitedTotal = async (): Promise<number> => (await metric('signpost_rrl_limited_total', 'action="dropped",class="answer"')) + (await metric('signpost_rrl_limited_total', 'action="slipped",class="answer"'))

/** Sends `count` queries at `perSecond` from `client`, in 10 ms batches; bounded in count and time. */
async function flood(client: { send(packet: Buffer): void }, count: number, perSecond: number, packet: (i: number) => Buffer): Promise<void> {
  const perBatch = Math.max(1, Math.round(perSecond / 100))
  for (let sent = 0; sent < count; ) {
    for (let i = 0; i < perBatch && sent < count; i++) client.send(packet(sent++))
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('response rate limiting', () => {
  it('holds a flood from 127.0.9.0/24 to the rate, slipping every 2nd limited reply, while 127.0.77.1 gets every answer', async () => {
    const flooder = await clientAt('127.0.9.1')
    const other = await clientAt('127.0.77.1')
    const limitedBefore = await limitedTotal()
    const started = performance.now()
    // 1,500 queries at 1,000 a second; the other prefix asks the same name 5 times a second meanwhile.
    const normal = (async () => {
      for (let i = 0; i < 8; i++) {
        other.send(bigQuery(i))
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    })()
    await flood(flooder, 1500, 1000, (i) => bigQuery(i & 0xffff))
    await normal
    const seconds = (performance.now() - started) / 1000
    // Every query handled: the limiter's counts plus the replies that went out make 1,500.
    await until(async () => (await limitedTotal()) - limitedBefore + flooder.replies.filter((r) => !r.tc).length === 1500, 5000, 'every flood query handled')
    await until(async () => other.replies.length === 8, 2000, 'the other prefix answered')
    const full = flooder.replies.filter((r) => r.answers > 0)
    const slipped = flooder.replies.filter((r) => r.tc && r.answers === 0)
    const limited = 1500 - full.length
    flooder.close()
    other.close()
    // The first second's credit, and no more: a prefix that keeps flooding stays in debt.
    expect(full.length).toBeGreaterThanOrEqual(RATE)
    expect(full.length).toBeLessThanOrEqual(RATE + Math.ceil(RATE * seconds))
    expect(Math.abs(slipped.length - limited / 2)).toBeLessThanOrEqual(1)
    expect(await metric('signpost_rrl_limited_total', 'action="slipped",class="answer"')).toBeGreaterThanOrEqual(slipped.length)
    expect(other.replies.every((r) => r.rcode === 0 && r.answers === 1 && !r.tc)).toBe(true)
    const limitingLines = logs.filter((l) => l['msg'] === 'rrl: limiting responses')
    expect(limitingLines.map((l) => l['rrl'])).toEqual([{ prefix: '127.0.9.0/24', class: 'answer', name: 'big.abuse.test.', qtype: 'TXT' }])
  })

  it('holds a flood of random names under a wildcard as one account (each name is not a fresh one)', async () => {
    const flooder = await clientAt('127.0.11.1')
    const limitedBefore = await limitedTotal()
    const started = performance.now()
    await flood(flooder, 600, 1000, (i) => buildQuery(`r${i}.wild.abuse.test`, RRType.TXT, { id: i, edns: { udpSize: 1232 } }))
    const seconds = (performance.now() - started) / 1000
    await until(async () => (await limitedTotal()) - limitedBefore + flooder.replies.filter((r) => !r.tc).length === 600, 5000, 'every wildcard query handled')
    expect(flooder.replies.filter((r) => r.answers > 0).length).toBeLessThanOrEqual(RATE + Math.ceil(RATE * seconds))
    flooder.close()
  })

  it('a client of the limited prefix gets its answer over TCP after a slip (dig)', async () => {
    const { stdout } = await run('dig', ['-b', '127.0.9.2', '@127.0.0.1', '-p', String(server.port), '+nocookie', '+time=1', '+tries=3', BIG, 'TXT'])
    expect(stdout).toContain('Truncated, retrying in TCP mode')
    expect(stdout).toMatch(/status: NOERROR/)
    expect(stdout).toMatch(/^big\.abuse\.test\.\s+300\s+IN\s+TXT\s+"0{95}"/m)
    expect(stdout).toContain('(TCP)')
  })

  it('a client of the limited prefix with a valid server cookie is never limited', async () => {
    const client = await clientAt('127.0.9.3')
    // Its first queries carry a client cookie alone, so they are limited: a slip tells it BADCOOKIE, with a cookie.
    let badcookie: Reply | undefined
    for (let i = 0; i < 4 && !badcookie; i++) {
      client.send(bigQuery(i, CLIENT_COOKIE))
      await until(async () => client.replies.length > 0, 300, 'a slip').catch(() => undefined)
      badcookie = client.replies.find((r) => r.rcode === 23)
    }
    expect(badcookie?.cookie?.subarray(0, 8)).toEqual(CLIENT_COOKIE)
    expect(badcookie?.cookie).toHaveLength(24)
    expect(badcookie?.answers).toBe(0)
    client.replies.length = 0
    await flood(client, 200, 1000, (i) => bigQuery(i, badcookie!.cookie))
    await until(async () => client.replies.length === 200, 3000, 'every cookie query answered')
    expect(client.replies.every((r) => r.rcode === 0 && r.answers === 1 && r.cookie?.equals(badcookie!.cookie!) === true)).toBe(true)
    expect(await metric('signpost_dns_cookies_total', 'check="valid"')).toBeGreaterThanOrEqual(200)
    client.close()
  })

  it('real dig with a cookie follows BADCOOKIE and gets its answer over UDP', async () => {
    const { stdout } = await run('dig', ['-b', '127.0.9.4', '@127.0.0.1', '-p', String(server.port), '+cookie', '+badcookie', '+time=1', '+tries=3', BIG, 'TXT'])
    expect(stdout).toMatch(/status: NOERROR/)
    expect(stdout).toMatch(/^big\.abuse\.test\.\s+300\s+IN\s+TXT\s+"0{95}"/m)
    expect(stdout).toMatch(/COOKIE: [0-9a-f]{48} \(good\)/)
    expect(stdout).not.toContain('(TCP)')
  })

  it('never limits an exempt network, and answers ordinary clients as before (dig sends a cookie by default)', async () => {
    const exempt = await clientAt('127.0.50.1')
    await flood(exempt, 300, 1000, (i) => bigQuery(i))
    await until(async () => exempt.replies.length === 300, 3000, 'every exempt query answered')
    expect(exempt.replies.every((r) => r.answers === 1)).toBe(true)
    exempt.close()
    const { stdout } = await run('dig', ['-b', '127.0.60.1', '@127.0.0.1', '-p', String(server.port), 'www.abuse.test', 'A'])
    expect(stdout).toMatch(/status: NOERROR/)
    expect(stdout).toMatch(/COOKIE: [0-9a-f]{48} \(good\)/)
    expect(stdout).toMatch(/www\.abuse\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.1/)
  })

  it('answers a malformed COOKIE option with FORMERR, and a client cookie alone with a fresh server cookie', async () => {
    const client = await clientAt('127.0.61.1')
    client.send(buildQuery('www.abuse.test', RRType.A, { id: 1, edns: { options: [{ code: 10, data: Buffer.alloc(5) }] } }))
    client.send(buildQuery('www.abuse.test', RRType.A, { id: 2, edns: { options: [{ code: 10, data: Buffer.alloc(12) }] } }))
    client.send(buildQuery('www.abuse.test', RRType.A, { id: 3, edns: { options: [{ code: 10, data: CLIENT_COOKIE }] } }))
    await until(async () => client.replies.length === 3, 2000, 'three replies')
    const byId = new Map(client.replies.map((r) => [r.bytes.readUInt16BE(0), r]))
    expect(byId.get(1)?.rcode).toBe(1)
    expect(byId.get(2)?.rcode).toBe(1)
    const fresh = byId.get(3)
    expect(fresh?.rcode).toBe(0)
    expect(fresh?.answers).toBe(1)
    expect(fresh?.cookie?.subarray(0, 8)).toEqual(CLIENT_COOKIE)
    // Version 1, reserved zero, a timestamp of now (RFC 9018 §4).
    expect([...(fresh?.cookie?.subarray(8, 12) ?? [])]).toEqual([1, 0, 0, 0])
    expect(Math.abs((fresh?.cookie?.readUInt32BE(12) ?? 0) - Date.now() / 1000)).toBeLessThan(5)
    client.close()
  })

  it('logs once when a limited account stops being limited: when it has been quiet for the window', async () => {
    await until(async () => logs.some((l) => l['msg'] === 'rrl: stopped limiting'), 12_000, 'the stop line', 200)
    const stopped = logs.filter((l) => l['msg'] === 'rrl: stopped limiting')
    expect(stopped.length).toBeGreaterThanOrEqual(1)
    expect(stopped.length).toBeLessThanOrEqual(logs.filter((l) => l['msg'] === 'rrl: limiting responses').length)
    expect(stopped[0]?.['dropped']).toBeGreaterThan(0)
  })

  it('a flood from 3,000 random prefixes leaves the table its size', async () => {
    const bytes = await metric('signpost_rrl_table_bytes')
    expect(bytes).toBe(1024 * 16)
    for (let i = 0; i < 3000; i++) {
      const client = await clientAt(`127.${100 + (i >> 8)}.${i & 0xff}.1`)
      await client.sent(buildQuery(`n${i}.abuse.test`, RRType.A, { id: i }))
      client.close()
    }
    // 3,000 accounts over 256 sets of 4: (nearly) every slot taken, and none more.
    await until(async () => (await metric('signpost_rrl_table_slots_used')) >= 1000, 5000, 'the table (nearly) full')
    expect(await metric('signpost_rrl_table_slots_used')).toBeLessThanOrEqual(1024)
    expect(await metric('signpost_rrl_table_bytes')).toBe(bytes)
  })

  it('a reload with responses_per_second 0 turns the limiter off', async () => {
    writeFileSync(join(dir, 'signpost.yaml'), config().replace(`responses_per_second: ${RATE}`, 'responses_per_second: 0'))
    expect((await server.control.reload()).ok).toBe(true)
    const client = await clientAt('127.0.9.5')
    await flood(client, 300, 1000, (i) => bigQuery(i))
    await until(async () => client.replies.length === 300, 3000, 'every query answered')
    expect(client.replies.every((r) => r.answers === 1)).toBe(true)
    client.close()
  })
})

describe('response rate limiting over two DNS workers', () => {
  it('holds a flood from many source ports (the kernel spreads them over both workers) to the rate in total', async () => {
    const workersDir = mkdtempSync(join(tmpdir(), 'signpost-abuse-workers-'))
    writeFileSync(join(workersDir, 'abuse.test.zone'), `$ORIGIN abuse.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n  NS ns1\nns1 A 192.0.2.53\nbig TXT ${TXT}\n`)
    writeFileSync(join(workersDir, 'signpost.yaml'), `rrl: { responses_per_second: ${RATE} }\n`)
    const pair = await startTestServer(workersDir, { configFile: join(workersDir, 'signpost.yaml'), workers: 2 })
    const sockets = await Promise.all(Array.from({ length: 16 }, async () => {
      const socket = dgram.createSocket('udp4')
      await new Promise<void>((resolve) => socket.bind(0, '127.0.9.1', resolve))
      let full = 0
      socket.on('message', (bytes: Buffer) => void (bytes.readUInt16BE(6) > 0 && full++))
      return { socket, full: () => full }
    }))
    try {
      for (let i = 0; i < 1600; i++) {
        ;(sockets[i % 16] as (typeof sockets)[number]).socket.send(bigQuery(i), pair.port, '127.0.0.1')
        if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await until(async () => sockets.reduce((sum, s) => sum + s.full(), 0) > 0, 2000, 'some answers')
      // Each worker accounts half the rate (a credit of 5), and a flood keeps both in debt: no
      // more than the rate in all (a table per worker at the whole rate would give 20).
      expect(sockets.reduce((sum, s) => sum + s.full(), 0)).toBeLessThanOrEqual(RATE)
    } finally {
      for (const s of sockets) s.socket.close()
      await pair.close()
    }
  })
})
