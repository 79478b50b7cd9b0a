// HTTP/HTTPS probe (node:http): one request on a fresh connection (no keep-alive reuse between
// probes), expected status, optional body match, TLS verification optional (self-signed VIPs are
// common). Never rejects.

import http from 'node:http'
import https from 'node:https'
import { isIPv6 } from 'node:net'
import type { ProbeResult, ProbeSpec } from './types.ts'
import { errorFailure, failure } from './failure.ts'

const MAX_BODY = 64 * 1024

type HttpSpec = Extract<ProbeSpec, { type: 'http' | 'https' }>

export function probeHttp(address: string, spec: HttpSpec, timeoutMs: number, sourceAddress: string | undefined): Promise<ProbeResult> {
  const started = performance.now()
  const client = spec.type === 'https' ? https : http
  return new Promise((resolve) => {
    let done = false
    const finish = (result: ProbeResult): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      request.destroy()
      resolve(result)
    }
    const request = client.request({
      host: address,
      port: spec.port,
      method: spec.method,
      path: spec.path,
      agent: false,
      headers: { host: spec.host ?? (isIPv6(address) ? `[${address}]` : address), 'user-agent': 'signpost-health-check', connection: 'close' },
      rejectUnauthorized: spec.verifyTls,
      ...(spec.host ? { servername: spec.host } : {}),
      ...(sourceAddress ? { localAddress: sourceAddress } : {}),
    })
    const timer = setTimeout(() => finish(failure('timeout', `timeout after ${timeoutMs} ms`, started)), timeoutMs)
    request.once('error', (error: NodeJS.ErrnoException) => {
      const tls = error.code?.startsWith('ERR_TLS') || /certificate|SSL|self.signed/i.test(error.message)
      finish(errorFailure(error.code === 'ECONNREFUSED' ? 'refused' : tls ? 'tls' : 'reset', error, `${spec.type} ${error.code ?? error.message}`, started))
    })
    request.once('response', (response) => {
      const status = response.statusCode ?? 0
      if (!spec.status.includes(status)) {
        finish(failure('status', `HTTP ${status}`, started))
        return
      }
      if (spec.body === undefined) {
        finish({ ok: true, ms: Math.round(performance.now() - started) })
        return
      }
      const expected = spec.body
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk
      })
      response.once('end', () => finish(bodyMatches(body, expected) ? { ok: true, ms: Math.round(performance.now() - started) } : failure('body', `HTTP ${status} body does not match ${expected}`, started)))
      response.once('error', (error) => finish(failure('reset', `${spec.type} ${error.message}`, started)))
    })
    request.end()
  })
}

function bodyMatches(body: string, expected: string): boolean {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(expected)
  return regex ? new RegExp(regex[1] as string, regex[2]).test(body) : body.includes(expected)
}
