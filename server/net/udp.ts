// UDP listener: each datagram goes through the packet handler; the reply goes back to the sender.

import dgram from 'node:dgram'
import type { Logger } from 'pino'
import { keepLentReply } from '../dns/wire/reply-buffer.ts'
import type { PacketHandler } from './handle-packet.ts'

/**
 * Replies go to the address a datagram came from, always an IP literal. Node's default lookup
 * still runs dns.lookup for it (an IP regex, then a nextTick before the send): answering at once
 * instead measured ~0.8 CPU µs less per query in `npm run bench`.
 */
export function literalAddress(address: string, family: unknown, callback: (error: null, address: string, family: number) => void): void {
  callback(null, address, family === 6 || address.includes(':') ? 6 : 4)
}

/** `reusePort`: several DNS worker threads bind the same port and the kernel spreads datagrams over them. */
export function listenUdp(host: string, port: number, family: 4 | 6, handle: PacketHandler, logger: Logger, reusePort = false): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, reusePort, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20, lookup: literalAddress })
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject)
      // Send failures (client gone, buffer full) are the client's loss, never the server's.
      socket.on('error', (error) => logger.warn({ err: error }, 'udp socket error'))
      socket.on('message', (packet, remote) => {
        const reply = handle(packet, remote, 'udp')
        if (!reply) return
        socket.send(reply, remote.port, remote.address)
        // The reply is lent (reply-buffer.ts): a send Node queued instead of making at once reads it later.
        if (socket.getSendQueueCount() !== 0) keepLentReply(reply)
      })
      resolve(socket)
    })
  })
}

export function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()))
}

/** How long an idle socket is waited on before it is closed anyway. */
const QUIET_CLOSE_MS = 100

/**
 * Closes `socket` just after a round of reads, when its queue is as short as it gets, and only when
 * no reply waits in libuv's send queue (a close cancels those). Closing a socket that shares its
 * port (reusePort) drops the datagrams queued on it; closing in the check phase right after the
 * poll phase read them leaves that queue as short as Node can make it. `npm run bench` section 6
 * measures what is still lost.
 */
export function closeUdpBetweenReads(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    let idle: NodeJS.Timeout | undefined
    const close = (): void => {
      clearTimeout(idle)
      socket.off('message', afterRead)
      // Replies still queued in libuv would be cancelled by the close: wait for a round with none.
      setImmediate(() => (socket.getSendQueueCount() === 0 ? socket.close(() => resolve()) : arm()))
    }
    const afterRead = (): void => close()
    const arm = (): void => {
      idle = setTimeout(close, QUIET_CLOSE_MS)
      socket.once('message', afterRead)
    }
    arm()
  })
}
