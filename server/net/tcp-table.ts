// The TCP connections of one listener, in the order they last completed a query, with each client
// address's share and the bytes of partial messages they hold. Every decision is O(1) but one:
// finding the connection that holds the most bytes, which runs only when the buffer cap is hit.

import type net from 'node:net'

export type TcpLimits = {
  /** Connections at once; a newcomer past it closes the one that completed a query longest ago. */
  readonly maxConnections: number
  /** Connections of one client address (a /32 or /128); past it, the client's own oldest closes. */
  readonly maxPerClient: number
  /** Bytes of partial messages all connections hold; past it, the connection holding the most closes. */
  readonly maxBufferedBytes: number
  readonly idleTimeoutMs: number
}

export type TcpConnection = {
  readonly socket: net.Socket
  readonly client: string
  /** When it was accepted or last completed a query (performance.now()). */
  lastActive: number
  /** Bytes of the partial message it is assembling. */
  buffered: number
}

export type TcpTable = {
  /** Takes a new connection in, closing others as the limits say. */
  admit(socket: net.Socket, client: string, now: number): TcpConnection
  /** A whole query arrived on it: it moves to the back of the closing order. */
  active(connection: TcpConnection, now: number): void
  /** It starts a partial message of `bytes`; false when the cap closed it to make room. */
  buffer(connection: TcpConnection, bytes: number): boolean
  unbuffer(connection: TcpConnection, bytes: number): void
  remove(connection: TcpConnection): void
  closeAll(): void
}

/** Above this share of the table, connections idle a quarter of the idle timeout are closed (NSD does the same). */
const PRESSURE = 0.5
const PRESSED_IDLE = 0.25
const MIN_PRESSED_IDLE_MS = 250

/** `onFloodOver`: the buffer cap was hit, and now no partial message is left (the flood is over). */
export function createTcpTable(limits: TcpLimits, onFloodOver: () => void = () => undefined): TcpTable {
  // Maps keep insertion order: the first entry is the one that completed a query longest ago.
  const byActivity = new Map<net.Socket, TcpConnection>()
  const byClient = new Map<string, Set<TcpConnection>>()
  let buffered = 0
  let capHit = false
  const pressedIdleMs = Math.max(MIN_PRESSED_IDLE_MS, limits.idleTimeoutMs * PRESSED_IDLE)

  const remove = (connection: TcpConnection): void => {
    if (!byActivity.delete(connection.socket)) return
    const own = byClient.get(connection.client)
    own?.delete(connection)
    if (own?.size === 0) byClient.delete(connection.client)
    release(connection, connection.buffered)
  }
  const release = (connection: TcpConnection, bytes: number): void => {
    connection.buffered -= bytes
    buffered -= bytes
    if (buffered === 0 && capHit) {
      capHit = false
      onFloodOver()
    }
  }
  const close = (connection: TcpConnection): void => {
    remove(connection)
    connection.socket.destroy()
  }
  const oldest = (): TcpConnection | undefined => byActivity.values().next().value

  return {
    admit(socket, client, now) {
      // Under pressure the idle timeout shortens: close what has been idle past the short one.
      for (let first = oldest(); first && byActivity.size >= limits.maxConnections * PRESSURE && now - first.lastActive > pressedIdleMs; first = oldest()) close(first)
      const own = byClient.get(client)
      if (own && own.size >= limits.maxPerClient) close(own.values().next().value as TcpConnection)
      // maxConnections is at least 1, so a full table has an oldest connection.
      if (byActivity.size >= limits.maxConnections) close(oldest() as TcpConnection)
      const connection: TcpConnection = { socket, client, lastActive: now, buffered: 0 }
      byActivity.set(socket, connection)
      // Closing the client's last connection above dropped its set.
      const mine = byClient.get(client)
      if (mine) mine.add(connection)
      else byClient.set(client, new Set([connection]))
      return connection
    },
    active(connection, now) {
      if (!byActivity.delete(connection.socket)) return
      connection.lastActive = now
      byActivity.set(connection.socket, connection)
      const own = byClient.get(connection.client)
      own?.delete(connection)
      own?.add(connection)
    },
    buffer(connection, bytes) {
      while (buffered + bytes > limits.maxBufferedBytes) {
        capHit = true
        let heaviest = connection
        for (const other of byActivity.values()) if (other.buffered > heaviest.buffered) heaviest = other
        close(heaviest)
        if (heaviest === connection) return false
      }
      connection.buffered += bytes
      buffered += bytes
      return true
    },
    unbuffer(connection, bytes) {
      if (byActivity.has(connection.socket)) release(connection, bytes)
    },
    remove,
    closeAll() {
      for (const connection of [...byActivity.values()]) close(connection)
    },
  }
}
