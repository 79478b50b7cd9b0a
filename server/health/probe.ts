// Runs the probe a target's spec asks for. What probes share lives here: the one fping process
// for every ICMP target, and the bound on exec checks running at once.

import { limitInFlight } from './in-flight.ts'
import { probeDns } from './probes/dns.ts'
import { createExecRunner } from './probes/exec.ts'
import { probeHttp } from './probes/http.ts'
import { startPinger, type Pinger } from './probes/icmp.ts'
import { probeTcp } from './probes/tcp.ts'
import type { ProbeResult, ProbeTarget } from './types.ts'

export type ProbeRunner = {
  probe(target: ProbeTarget): Promise<ProbeResult>
  stop(): void
}

export function createProbeRunner(targets: readonly ProbeTarget[], sourceAddress: string | undefined, maxExecInFlight: number): ProbeRunner {
  const icmp = targets.filter((t) => t.probe.type === 'icmp')
  const pinger: Pinger | undefined = icmp.length === 0 ? undefined : startPinger({
    addresses: [...new Set(icmp.map((t) => t.address))],
    periodMs: Math.min(...icmp.map((t) => t.rules.intervalMs)),
    timeoutMs: Math.max(...icmp.map((t) => t.rules.timeoutMs)),
    sourceAddress,
  })
  const exec = createExecRunner()
  const execInFlight = limitInFlight(maxExecInFlight)
  return {
    probe(target) {
      const { probe, rules, address } = target
      switch (probe.type) {
        case 'tcp':
          return probeTcp(address, probe.port, rules.timeoutMs, sourceAddress)
        case 'http':
        case 'https':
          return probeHttp(address, probe, rules.timeoutMs, sourceAddress)
        case 'dns':
          return probeDns(address, probe, rules.timeoutMs)
        case 'icmp':
          return pinger!.probe(address)
        case 'exec':
          return execInFlight.run(() => exec.run(probe.command, address, rules.timeoutMs))
      }
    },
    stop() {
      pinger?.stop()
      exec.stop()
    },
  }
}
