// TCP probe: connect and close within the timeout. Never rejects.

import net from 'node:net'
import type { ProbeResult } from './types.ts'
import { errorFailure, failure } from './failure.ts'

export function probeTcp(address: string, port: number, timeoutMs: number, sourceAddress: string | undefined): Promise<ProbeResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, ...(sourceAddress ? { localAddress: sourceAddress } : {}) })
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => finish(failure('timeout', `timeout after ${timeoutMs} ms`, started)), timeoutMs)
    socket.once('connect', () => finish({ ok: true, ms: Math.round(performance.now() - started) }))
    socket.once('error', (error: NodeJS.ErrnoException) => finish(errorFailure(error.code === 'ECONNREFUSED' ? 'refused' : 'reset', error, `connect ${error.code ?? error.message}`, started)))
  })
}
