// Baseline for the benchmark: the cheapest possible Node DNS server, one dgram receive and one
// send per query, answering with the query itself flipped to a response. Signpost's cost per
// query is judged against this floor.

import dgram from 'node:dgram'
import { literalAddress } from '../server/net/udp.ts'

const port = Number(process.argv[2] ?? 0)
// The reply address is always an IP literal: skip dns.lookup, as Signpost's UDP listener does.
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20, lookup: literalAddress })
socket.on('message', (packet, remote) => {
  packet[2] = (packet[2] as number) | 0x84
  socket.send(packet, remote.port, remote.address)
})
socket.bind(port, '127.0.0.1', () => process.stdout.write(`${socket.address().port}\n`))
