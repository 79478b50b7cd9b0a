// `npm run bench:fleet`: what a fleet on etcd costs and how fast it is, on a real 3-member etcd
// cluster on loopback (test/support/etcd.ts) and Signpost instances as their own processes.
//   1. propagation: 50 operator writes through ns1; per write, the time to ns1's 200 and until
//      ns2's DNS answers have it (polled with one UDP query per millisecond).
//   2. leader kill: 100 writes through ns1, the etcd leader kill -9'd at write 30; writes that got
//      200 and 503, and the longest gap between two acknowledged writes. TRIALS times (default 3).
//   3. traffic: one instance probing 1,000 targets (TCP, interval 1 s): keys it holds in etcd, and
//      the writes it sends: at start, per second while nothing changes, and when all 1,000 fail.
// Bounded: every wait has a limit; etcd and the instances are stopped by PID at the end.

import net from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEtcdCluster } from '../test/support/etcd.ts'
import { A_VIP, B_VIP, admin, askA, fleetFixture, median, startInstance } from '../test/support/fleet.ts'
import type { ServerProcess } from '../test/support/process.ts'
import { until } from '../test/support/wait.ts'

const TRIALS = Number(process.env['TRIALS'] ?? 3)
const etcd = await startEtcdCluster(3)
const fixture = fleetFixture(etcd.endpoints)
const running: ServerProcess[] = []
const spawn = async (config: string): Promise<ServerProcess> => {
  const server = await startInstance(config)
  running.push(server)
  return server
}
const stats = (values: readonly number[]): string => `median ${median(values).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`

try {
  // 1. propagation
  {
    const ns1 = await spawn(fixture.config('ns1', { prefix: '/bench/propagation' }))
    const ns2 = await spawn(fixture.config('ns2', { prefix: '/bench/propagation' }))
    const acked: number[] = []
    const visible: number[] = []
    for (let i = 0; i < 50; i++) {
      const disable = i % 2 === 0
      const wanted = JSON.stringify(disable ? [A_VIP] : [A_VIP, B_VIP])
      const sent = performance.now()
      const seen = until(async () => JSON.stringify(await askA(ns2.port, 'www.fleet.test')) === wanted, 5000, `write ${i} at ns2`, 1).then(() => performance.now() - sent)
      const reply = await admin(ns1, 'PUT', '/v1/sites/b/state', { state: disable ? 'disabled' : 'enabled', reason: `bench ${i}` })
      if (reply.status !== 200) throw new Error(`write ${i}: ${reply.status} ${JSON.stringify(reply.body)}`)
      acked.push(performance.now() - sent)
      visible.push(await seen)
    }
    console.log(`propagation, 50 writes through ns1: 200 at ns1 ${stats(acked)}; in ns2's answers ${stats(visible)} (both from the request)`)
    await Promise.all([ns1.stop(), ns2.stop()])
  }

  // 2. leader kill
  {
    const gaps: number[] = []
    for (let trial = 0; trial < TRIALS; trial++) {
      const ns1 = await spawn(fixture.config('ns1', { prefix: `/bench/leader${trial}` }))
      const leader = await etcd.leader()
      const acked: number[] = []
      let refused = 0
      for (let i = 0; i < 100; i++) {
        if (i === 30) await etcd.kill(leader)
        const reply = await admin(ns1, 'PUT', '/v1/sites/a/weight', { weight: i + 1, reason: `bench ${i}` })
        if (reply.status === 200) acked.push(performance.now())
        else refused++
      }
      let gap = 0
      for (let k = 1; k < acked.length; k++) gap = Math.max(gap, acked[k]! - acked[k - 1]!)
      gaps.push(gap)
      console.log(`leader kill -9 at write 30 (trial ${trial + 1}): ${acked.length} writes got 200, ${refused} got 503; longest gap between acknowledged writes ${gap.toFixed(0)} ms`)
      await ns1.stop()
      await etcd.restoreAll()
    }
    console.log(`leader kill: gap ${stats(gaps)} over ${TRIALS} trials`)
  }

  // 3. traffic with 1,000 targets
  {
    const listener = net.createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve))
    const port = (listener.address() as net.AddressInfo).port
    const addresses = Array.from({ length: 1000 }, (_, i) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`)
    const config = fixture.config('big', { prefix: '/bench/traffic' })
    writeFileSync(config, `zones: zones-big
workers: 1
cluster:
  etcd: { endpoints: [${etcd.endpoints.join(', ')}], prefix: /bench/traffic, lease_ttl_s: 5 }
checks:
  tcp: { type: tcp, port: ${port}, interval_ms: 1000, rise: 1, fall: 1 }
sites:
${addresses.map((a, i) => `  s${i}: { vips: [${a}], check: tcp }`).join('\n')}
names:
  www.fleet.test.: { policy: all }
`)
    writeFileSync(join(fixture.dir, 'zones-big', 'fleet.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${addresses.map((a) => `www 5 A ${a}`).join('\n')}\n`)
    const writes = async (s: ServerProcess): Promise<number> => Number(/^signpost_fleet_etcd_writes_total (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${s.adminPort}/metrics`)).text())?.[1])
    const big = await spawn(`${config}`)
    await until(async () => (await writes(big)) >= 1001, 30_000, 'all verdicts published', 100)
    const keys = (await etcd.keys('/bench/traffic/')).length
    const atStart = await writes(big)
    const quietFrom = { at: performance.now(), writes: atStart }
    await new Promise((r) => setTimeout(r, 30_000))
    const quiet = ((await writes(big)) - quietFrom.writes) / ((performance.now() - quietFrom.at) / 1000)
    const beforeFailure = await writes(big)
    await new Promise<void>((resolve) => listener.close(() => resolve()))
    await until(async () => (await writes(big)) - beforeFailure >= 1000, 30_000, 'all 1,000 down', 100)
    console.log(`traffic, one instance probing 1,000 targets: ${keys} keys in etcd (one verdict per target, one registry entry); ${atStart} writes at start; ${quiet.toFixed(2)} writes/s while nothing changes (the registry entry once per lease TTL; lease keepalives, one message per TTL/3 on a stream, are not writes); ${(await writes(big)) - beforeFailure} writes when all 1,000 went down (one per transition)`)
    await big.stop()
  }
} finally {
  await Promise.all(running.map((s) => s.stop()))
  await etcd.close()
}
