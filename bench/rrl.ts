// `npm run bench:rrl`: amplification under a reflection flood, with the default settings. A
// Signpost process (default workers, default `rrl` and cookies) serves a zone with an ~800-byte
// TXT. For BENCH_SECONDS (default 20), 127.0.9.1 asks for it 4,000 times a second from 16 source
// ports (a spoofed flood's ports are random, so the kernel spreads it over the workers) while
// 127.0.77.1, another prefix, asks 10 times a second (a new port each time, as a resolver does).
// Prints bytes out ÷ bytes in for the flooded prefix (DNS payload, and with IP and UDP headers)
// and the other prefix's answer rate. Bounded in count and time.

import dgram from 'node:dgram'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RRType } from '../server/dns/types.ts'
import { spawnSignpost } from '../test/support/process.ts'
import { buildQuery } from '../test/support/query.ts'

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20)
const PER_SECOND = 4000
const PORTS = 16
/** IPv4 and UDP headers: what the victim's link carries besides the DNS message. */
const HEADERS = 28

const dir = mkdtempSync(join(tmpdir(), 'signpost-bench-rrl-'))
const txt = Array.from({ length: 8 }, (_, i) => `"${String(i).repeat(95)}"`).join(' ')
writeFileSync(join(dir, 'bench.test.zone'), `$ORIGIN bench.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n  NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\nbig TXT ${txt}\n`)
writeFileSync(join(dir, 'signpost.yaml'), 'zones: .\n')
const server = await spawnSignpost(['--config', join(dir, 'signpost.yaml')])

// The flood: dig's usual query (EDNS, 1232 bytes), no cookie: a spoofer has none.
const query = (id: number): Buffer => buildQuery('big.bench.test', RRType.TXT, { id, edns: { udpSize: 1232 } })
let floodOut = 0
let floodIn = 0
let floodPackets = 0
let floodReplies = 0
let floodFull = 0
let fullBytes = 0
const sockets = await Promise.all(Array.from({ length: PORTS }, async () => {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.9.1', resolve))
  socket.on('message', (bytes) => {
    floodIn += bytes.length
    floodReplies++
    if (bytes.readUInt16BE(6) > 0) (floodFull++, (fullBytes = bytes.length))
  })
  return socket
}))

let otherAsked = 0
let otherAnswered = 0
const askOther = async (i: number): Promise<void> => {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.77.1', resolve))
  otherAsked++
  const answered = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 1000)
    socket.once('message', (bytes) => (clearTimeout(timer), resolve(bytes.readUInt16BE(6) > 0)))
  })
  socket.send(i % 2 ? query(i) : buildQuery('www.bench.test', RRType.A, { id: i }), server.port, '127.0.0.1')
  if (await answered) otherAnswered++
  socket.close()
}

const started = performance.now()
const others: Promise<void>[] = []
for (let tick = 0; tick < SECONDS * 100; tick++) {
  // Every 10 ms: 40 flood queries, and every 10th tick one from the other prefix.
  for (let i = 0; i < PER_SECOND / 100; i++) {
    const packet = query((tick * 40 + i) & 0xffff)
    floodOut += packet.length
    floodPackets++
    ;(sockets[(tick * 40 + i) % PORTS] as dgram.Socket).send(packet, server.port, '127.0.0.1')
  }
  if (tick % 10 === 0) others.push(askOther(tick))
  const next = started + (tick + 1) * 10
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())))
}
const seconds = (performance.now() - started) / 1000
await Promise.all(others)
await new Promise((resolve) => setTimeout(resolve, 500))
for (const socket of sockets) socket.close()
await server.stop()

const ratio = floodIn / floodOut
const ratioWire = (floodIn + floodReplies * HEADERS) / (floodOut + floodPackets * HEADERS)
console.log(`rrl defaults, ${floodPackets} queries of ${floodOut / floodPackets} bytes from 127.0.9.1 over ${seconds.toFixed(1)} s (${(floodPackets / seconds).toFixed(0)}/s) for a TXT whose answer is ${fullBytes} bytes (${(fullBytes / (floodOut / floodPackets)).toFixed(1)}× the query):`)
console.log(`  replies ${floodReplies} (${floodFull} full answers, ${floodReplies - floodFull} slipped with TC=1), bytes out ÷ bytes in ${ratio.toFixed(3)} (DNS payload), ${ratioWire.toFixed(3)} (with IP and UDP headers)`)
console.log(`  127.0.77.1 at 10 queries/s: ${otherAnswered} of ${otherAsked} answered (${((otherAnswered / otherAsked) * 100).toFixed(1)}%)`)
