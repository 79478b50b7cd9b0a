// DNS over TCP (RFC 7766, RFC 1035 §4.2.2): two-byte length framing, any number of pipelined
// queries per connection answered in order, partial reads reassembled. The idle timer restarts
// only when a whole query has arrived, so a client dribbling bytes can't hold a connection open;
// a client that stops reading stops being read.
//
// One client must never lock the others out (RFC 7766 §6.2.2, as Knot and NSD behave). The
// connection table (tcp-table.ts) holds each address to its share; when the table is full, the
// connection that completed a query longest ago is closed to admit a newcomer, and above half
// full that connection is closed once it has been idle a quarter of the idle timeout (NSD).
// Partial messages are assembled into one buffer of the announced length, never re-copied per
// chunk, and the table's buffered bytes are bounded: past the cap, the connection holding the
// most is closed.

import net from 'node:net'
import type { Logger } from 'pino'
import { releaseMemory } from '../common/release-memory.ts'
import type { PacketHandler } from './handle-packet.ts'
import { createTcpTable, type TcpConnection, type TcpLimits, type TcpTable } from './tcp-table.ts'

export type TcpOptions = TcpLimits

const FLOOD_RELEASE_MS = 1000

export type TcpListener = { readonly port: number; close(): Promise<void> }

export function listenTcp(host: string, port: number, handle: PacketHandler, options: TcpOptions, logger: Logger, reusePort = false): Promise<TcpListener> {
  // After a flood that hit the buffer cap, the memory it took is given back once it is over.
  let release: NodeJS.Timeout | undefined
  const table = createTcpTable(options, () => {
    clearTimeout(release)
    release = setTimeout(releaseMemory, FLOOD_RELEASE_MS).unref()
  })
  const server = net.createServer((socket) => {
    serveConnection(socket, table.admit(socket, socket.remoteAddress ?? '', performance.now()), table, handle, options)
  })
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve())
      table.closeAll()
    })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true, reusePort, ipv6Only: net.isIPv6(host) }, () => {
      server.off('error', reject)
      server.on('error', (error) => logger.warn({ err: error }, 'tcp listener error'))
      resolve({ port: (server.address() as net.AddressInfo).port, close })
    })
  })
}

function serveConnection(socket: net.Socket, connection: TcpConnection, table: TcpTable, handle: PacketHandler, options: TcpOptions): void {
  const client = { address: connection.client, port: socket.remotePort ?? 0 }
  const idle = setTimeout(() => socket.destroy(), options.idleTimeoutMs)
  // The message being assembled: its buffer (of the announced length) and how much of it arrived.
  let message: Buffer | undefined
  let filled = 0
  // A length prefix split across chunks: its first byte.
  let prefix = -1
  socket.on('error', () => socket.destroy())
  socket.on('close', () => {
    clearTimeout(idle)
    table.remove(connection)
  })
  socket.on('drain', () => socket.resume())

  const answer = (query: Uint8Array): void => {
    idle.refresh()
    table.active(connection, performance.now())
    const reply = handle(query, client, 'tcp')
    if (!reply) return
    const framed = Buffer.allocUnsafe(2 + reply.length)
    framed.writeUInt16BE(reply.length, 0)
    framed.set(reply, 2)
    if (!socket.write(framed)) socket.pause()
  }

  socket.on('data', (chunk: Buffer) => {
    let at = 0
    while (at < chunk.length && !socket.destroyed) {
      if (message) {
        const take = Math.min(chunk.length - at, message.length - filled)
        chunk.copy(message, filled, at, at + take)
        filled += take
        at += take
        if (filled < message.length) return
        const whole = message
        message = undefined
        table.unbuffer(connection, whole.length)
        answer(whole)
        continue
      }
      let length: number
      if (prefix >= 0) {
        length = (prefix << 8) | (chunk[at] as number)
        prefix = -1
        at += 1
      } else if (at + 1 < chunk.length) {
        length = chunk.readUInt16BE(at)
        at += 2
      } else {
        prefix = chunk[at] as number
        return
      }
      if (length === 0) return void socket.destroy()
      if (at + length <= chunk.length) {
        // Whole in this chunk (the usual case): answered in place, no copy.
        answer(chunk.subarray(at, at + length))
        at += length
        continue
      }
      if (!table.buffer(connection, length)) return // the table closed a connection to stay within its cap; maybe this one
      message = Buffer.allocUnsafe(length)
      filled = 0
    }
  })
}
