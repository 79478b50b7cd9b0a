// Stopping as an operator's service manager does: SIGTERM ends the process promptly, whoever is
// still attached to the admin API's event stream.

import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { spawnSignpost } from '../support/process.ts'

/** Opens the event stream and resolves once its first bytes arrived (the client is attached). */
function attach(port: number): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/v1/events', agent: false }, (response) => {
      response.once('data', () => resolve(request))
      response.on('error', () => undefined)
    })
    request.on('error', reject)
  })
}

describe('stopping', () => {
  it('exits within 2 s of SIGTERM with 100 event-stream clients attached (their streams are ended, not waited for)', async () => {
    const server = await spawnSignpost(['--zones', 'test/fixtures/zones/basic'])
    const clients = await Promise.all(Array.from({ length: 100 }, () => attach(server.adminPort))).catch(async (error: unknown) => {
      await server.stop()
      throw error
    })
    const ended = clients.map((request) => new Promise<void>((resolve) => request.once('close', () => resolve())))
    const started = performance.now()
    const code = await server.stop()
    const seconds = (performance.now() - started) / 1000
    console.log(`SIGTERM → exit with 100 SSE clients attached: ${seconds.toFixed(2)} s`)
    expect(code).toBe(0)
    // Well inside the 2 s after which the process would stop waiting: the streams were ended.
    expect(seconds).toBeLessThan(1.5)
    await Promise.all(ended)
  })
})
