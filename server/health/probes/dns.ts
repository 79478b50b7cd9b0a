// DNS probe through dns2's UDP client: the server must answer NOERROR, and the expected address
// when one is given. Never rejects. (dns2's client has no source-address option.)

import dns2 from 'dns2'
import { isIPv6 } from 'node:net'
import type { ProbeResult, ProbeSpec } from './types.ts'
import { errorFailure, failure } from './failure.ts'

type DnsSpec = Extract<ProbeSpec, { type: 'dns' }>

export async function probeDns(address: string, spec: DnsSpec, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now()
  const resolve = dns2.UDPClient({ dns: address, port: spec.port, timeout: timeoutMs, socketType: isIPv6(address) ? 'udp6' : 'udp4', retryOverTCP: false })
  try {
    const reply = await resolve(spec.query, spec.qtype, 1, { recursive: false })
    if (reply.header.rcode !== 0) return failure('rcode', `DNS rcode ${reply.header.rcode}`, started)
    if (spec.expect !== undefined) {
      const addresses = reply.answers.map((a) => (a as { address?: string }).address)
      if (!addresses.includes(spec.expect)) return failure('rcode', `DNS answer lacks ${spec.expect}`, started)
    }
    return { ok: true, ms: Math.round(performance.now() - started) }
  } catch (error) {
    const message = (error as Error).message
    if (/timeout|timed out/i.test(message)) return failure('timeout', `timeout after ${timeoutMs} ms`, started)
    return errorFailure('error', error as NodeJS.ErrnoException, `DNS ${message}`, started)
  }
}
