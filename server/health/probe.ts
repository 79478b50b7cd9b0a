// Runs the probe a target's spec asks for.

import { probeDns } from './probes/dns.ts'
import { probeHttp } from './probes/http.ts'
import { probeTcp } from './probes/tcp.ts'
import type { ProbeResult, ProbeTarget } from './types.ts'

export function runProbe(target: ProbeTarget, sourceAddress: string | undefined): Promise<ProbeResult> {
  const { probe, rules, address } = target
  switch (probe.type) {
    case 'tcp':
      return probeTcp(address, probe.port, rules.timeoutMs, sourceAddress)
    case 'http':
    case 'https':
      return probeHttp(address, probe, rules.timeoutMs, sourceAddress)
    case 'dns':
      return probeDns(address, probe, rules.timeoutMs)
  }
}
