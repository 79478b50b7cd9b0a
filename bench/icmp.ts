// `npm run bench:icmp`: what 1,000 ICMP targets cost. One checker probes 1,000 loopback addresses
// (127.2.x.y: the kernel answers every echo request to 127/8) every second through the one fping
// process, for BENCH_SECONDS (default 20) after the start-up round: CPU of this process and of
// fping (from /proc), fping's memory, and the verdicts. Bounded in count and time.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createChecker } from '../server/health/checker.ts'
import type { ProbeTarget } from '../server/health/types.ts'
import { ensureDebianPackages } from '../test/support/debian.ts'

ensureDebianPackages({ fping: 'fping' })
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20)
const COUNT = 1000
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
const targets: ProbeTarget[] = Array.from({ length: COUNT }, (_, i) => {
  const address = `127.2.${Math.floor(i / 250)}.${(i % 250) + 1}`
  return { id: `icmp ${address}`, kind: 'server', address, site: `s${i}`, node: undefined, probe: { type: 'icmp' }, rules: { intervalMs: 1000, timeoutMs: 800, rise: 2, fall: 2, recheckMs: 150 } }
})
let probes = 0
const checker = createChecker({ targets, previous: new Map(), onTransitions: () => undefined, sourceAddress: undefined, maxInFlight: 256, maxExecInFlight: 8, random: Math.random, onProbe: () => void probes++ })
const startedRound = performance.now()
await checker.start()
const roundMs = performance.now() - startedRound
const fping = Number(execFileSync('pgrep', ['-P', String(process.pid), 'fping'], { encoding: 'utf8' }).trim().split('\n')[0])
const fpingTicks = (): number => {
  const fields = readFileSync(`/proc/${fping}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}
const cpuBefore = process.cpuUsage()
const ticksBefore = fpingTicks()
const probesBefore = probes
await new Promise((r) => setTimeout(r, SECONDS * 1000))
const cpu = process.cpuUsage(cpuBefore)
const fpingCpuS = (fpingTicks() - ticksBefore) / TICK
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${fping}/status`, 'utf8'))?.[1])
const up = [...checker.health().values()].filter((h) => h.state === 'up').length
checker.stop()
console.log(`icmp, ${COUNT} targets every 1 s: start-up round ${roundMs.toFixed(0)} ms; ${up} up; over ${SECONDS} s, ${((probes - probesBefore) / SECONDS).toFixed(0)} probes/s, checker CPU ${(((cpu.user + cpu.system) / 1e6 / SECONDS) * 100).toFixed(1)}% of a core, fping ${((fpingCpuS / SECONDS) * 100).toFixed(1)}% of a core and ${(rssKb / 1024).toFixed(1)} MiB RSS (one process for all)`)
