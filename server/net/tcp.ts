// DNS over TCP (RFC 7766, RFC 1035 §4.2.2): two-byte length framing, any number of pipelined
// queries per connection answered in order, partial reads reassembled. The idle timer restarts
// only when a whole query has arrived, so a client dribbling bytes can't hold a connection open;
// a connection cap bounds the total, and a client that stops reading stops being read.

import net from 'node:net'
import type { Logger } from 'pino'
import type { PacketHandler } from './handle-packet.ts'

export type TcpOptions = { readonly idleTimeoutMs: number; readonly maxConnections: number }

export type TcpListener = { readonly port: number; close(): Promise<void> }

export function listenTcp(host: string, port: number, handle: PacketHandler, options: TcpOptions, logger: Logger, reusePort = false): Promise<TcpListener> {
  const connections = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    serveConnection(socket, handle, options)
  })
  server.maxConnections = options.maxConnections
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve())
      for (const socket of connections) socket.destroy()
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

function serveConnection(socket: net.Socket, handle: PacketHandler, options: TcpOptions): void {
  let pending: Buffer = Buffer.alloc(0)
  const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
  const idle = setTimeout(() => socket.destroy(), options.idleTimeoutMs)
  socket.on('error', () => socket.destroy())
  socket.on('close', () => clearTimeout(idle))
  socket.on('drain', () => socket.resume())
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0)
      if (length === 0) return void socket.destroy()
      if (pending.length < 2 + length) break
      const query = pending.subarray(2, 2 + length)
      pending = pending.subarray(2 + length)
      idle.refresh()
      const reply = handle(query, client, 'tcp')
      if (!reply) continue
      const framed = Buffer.allocUnsafe(2 + reply.length)
      framed.writeUInt16BE(reply.length, 0)
      framed.set(reply, 2)
      if (!socket.write(framed)) socket.pause()
    }
  })
}
