// Real HTTP(S) backends on loopback addresses, whose health a test can change: answer 200, answer
// 503, answer too slowly, or be gone (killed, connections reset) and come back on the same port.

import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'

export type BackendMode = 'ok' | '503' | 'slow'

export type Backend = {
  readonly address: string
  readonly port: number
  mode: BackendMode
  kill(): Promise<void>
  restart(): Promise<void>
}

export async function startBackend(address: string, port = 0, tls?: { key: string; cert: string }): Promise<Backend> {
  const sockets = new Set<net.Socket>()
  let server: http.Server | https.Server | undefined
  const backend = {
    address,
    port,
    mode: 'ok' as BackendMode,
    async kill() {
      const s = server
      server = undefined
      if (!s) return
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    async restart() {
      const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
        if (backend.mode === '503') res.writeHead(503).end('maintenance')
        else if (backend.mode === 'slow') setTimeout(() => res.writeHead(200).end('ok'), 2000).unref()
        else res.writeHead(200).end('ok')
      }
      const s = tls ? https.createServer(tls, handler) : http.createServer(handler)
      s.on('connection', (socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(backend.port, address, () => resolve())
      })
      backend.port = (s.address() as net.AddressInfo).port
      server = s
    },
  }
  await backend.restart()
  return backend
}
