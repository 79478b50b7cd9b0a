// `npm run bench:peers`: Signpost beside gdnsd (DYNA multifo, tcp_connect monitor), Knot (static)
// and PowerDNS (LUA ifportup) on loopback: one zone, one GSLB name over three VIPs, the same query
// file (60% GSLB name, 30% static, 10% NXDOMAIN), each server pinned to CPU 0 and dnsperf to CPU 1.
// The servers run side by side and take turns, ROUNDS times; then the raw loop and Signpost are
// also loaded at once, so their ratio is taken at one CPU speed. Prints one table: median QPS and
// CPU µs per query (with the range), p50/p99 latency at half of that server's QPS, RSS, and
// Signpost's ratio to each peer. Configs go to a temp folder; every process started is stopped.

import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureDebianPackages } from '../test/support/debian.ts'
import { freePort } from '../test/support/ports.ts'
import { latencyAt, median, ROUNDS, rssMb, saturate, SECONDS, sideBySide, stop, summarizeRounds } from './measure.ts'

const VIPS = ['127.0.10.1', '127.0.10.2', '127.0.10.3']
const work = mkdtempSync(join(tmpdir(), 'signpost-peers-'))

/** The zone every server loads; `www` is written per server (DYNA, LUA, or plain A records). */
function zone(www: string): string {
  const lines = ['$ORIGIN bench.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1', www]
  for (let i = 0; i < 100; i++) lines.push(`static${i} A 10.0.${i}.1`)
  return lines.join('\n') + '\n'
}

function queryFile(): string {
  const path = join(work, 'mix.txt')
  writeFileSync(path, Array.from({ length: 1000 }, (_, i) => (i % 10 < 6 ? 'www.bench.test A' : i % 10 < 9 ? `static${i % 100}.bench.test A` : `missing${i}.bench.test A`)).join('\n') + '\n')
  return path
}

type Peer = { name: string; start(port: number, vipPort: number): Promise<ChildProcess> }

/** Starts a pinned server process and waits until it answers a query. */
async function launch(command: string, args: readonly string[], port: number): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000)))
  child.stderr!.on('data', (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000)))
  const started = Date.now()
  while (Date.now() - started < 20_000) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${output}`)
    if (await answers(port)) return child
    await new Promise((r) => setTimeout(r, 200))
  }
  child.kill()
  throw new Error(`${command} did not answer within 20 s: ${output}`)
}

/** www.bench.test A, hand-built (id 0x1234, one question), to see whether a server answers yet. */
const PROBE_QUERY = Buffer.concat([Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('\x03www\x05bench\x04test\x00', 'latin1'), Buffer.from([0, 1, 0, 1])])

async function answers(port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4')
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      socket.close()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), 300)
    socket.once('message', () => done(true))
    socket.send(PROBE_QUERY, port, '127.0.0.1')
  })
}

// The raw loop and Signpost come last, in that order: the ratios are taken against them.
const peers: Peer[] = [
  {
    name: 'gdnsd 3.8 (DYNA multifo, tcp_connect)',
    async start(port, vipPort) {
      const dir = join(work, 'gdnsd')
      mkdirSync(join(dir, 'zones'), { recursive: true })
      writeFileSync(join(dir, 'config'), `options => { listen => [ 127.0.0.1:${port} ], run_dir => ${dir}/run, state_dir => ${dir}/state }
service_types => { vip => { plugin => tcp_connect, port => ${vipPort}, interval => 2, timeout => 1, up_thresh => 2, down_thresh => 2 } }
plugins => { multifo => { www => { service_types => vip, ${VIPS.map((v, i) => `s${i} => ${v}`).join(', ')} } } }
`)
      writeFileSync(join(dir, 'zones', 'bench.test'), zone('www 30 DYNA multifo!www'))
      return launch('gdnsd', ['-c', dir, 'start'], port)
    },
  },
  {
    name: 'Knot 3.2 (static A records)',
    async start(port) {
      const dir = join(work, 'knot')
      mkdirSync(dir)
      writeFileSync(join(dir, 'bench.test.zone'), zone(VIPS.map((v) => `www 30 A ${v}`).join('\n')))
      writeFileSync(join(dir, 'knot.conf'), `server:\n  listen: 127.0.0.1@${port}\n  rundir: ${dir}\ndatabase:\n  storage: ${dir}\nlog:\n  - target: stderr\n    any: warning\nzone:\n  - domain: bench.test\n    storage: ${dir}\n    file: bench.test.zone\n`)
      return launch('knotd', ['-c', join(dir, 'knot.conf')], port)
    },
  },
  {
    name: 'PowerDNS 4.7 (LUA ifportup)',
    async start(port, vipPort) {
      const dir = join(work, 'pdns')
      mkdirSync(dir)
      writeFileSync(join(dir, 'bench.test.zone'), zone(`www 30 LUA A "ifportup(${vipPort}, {${VIPS.map((v) => `'${v}'`).join(', ')}})"`))
      writeFileSync(join(dir, 'named.conf'), `zone "bench.test" { type master; file "${dir}/bench.test.zone"; };\n`)
      writeFileSync(join(dir, 'pdns.conf'), `launch=bind\nbind-config=${dir}/named.conf\nlocal-address=127.0.0.1\nlocal-port=${port}\nenable-lua-records=yes\nsocket-dir=${dir}\ndaemon=no\nguardian=no\ndisable-syslog=yes\nloglevel=3\n`)
      return launch('pdns_server', [`--config-dir=${dir}`], port)
    },
  },
  {
    // Not a DNS server: the cheapest Node UDP loop (receive, flip QR, send back), Node's floor here.
    name: 'Node raw dgram loop (floor for any Node server)',
    async start(port) {
      return launch(process.execPath, ['bench/raw-dgram.ts', String(port)], port)
    },
  },
  {
    name: 'Signpost (weighted, tcp check, 1 worker)',
    async start(port, vipPort) {
      const dir = join(work, 'signpost')
      mkdirSync(dir)
      writeFileSync(join(dir, 'bench.test.zone'), zone(VIPS.map((v) => `www 30 A ${v}`).join('\n')))
      // The rate limiter accounts every response at a rate dnsperf never reaches: its cost is in the figures, its effect not.
      writeFileSync(join(dir, 'signpost.yaml'), `rrl: { responses_per_second: 1000000 }\nchecks:\n  vip: { type: tcp, port: ${vipPort} }\nsites:\n${VIPS.map((v, i) => `  s${i}: { vips: [${v}], check: vip }\n`).join('')}names:\n  www.bench.test.: { policy: weighted }\nadmin: { state_file: ${dir}/state.json, audit_log: ${dir}/audit.log }\n`)
      return launch(process.execPath, ['server/main.ts', 'serve', '--zones', dir, '--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0', '--workers', '1'], port)
    },
  },
]

type Row = { name: string; qps: number; cpuUs: number; minUs: number; maxUs: number; p50Ms: number; p99Ms: number; rssMb: number }

async function main(): Promise<void> {
  ensureDebianPackages({ dnsperf: 'dnsperf', taskset: 'util-linux', gdnsd: 'gdnsd', knotd: 'knot', pdns_server: 'pdns-server pdns-backend-bind' })
  // The VIPs every health monitor checks: a TCP listener on each, in this process.
  const vipPort = await freePort()
  const listeners = await Promise.all(VIPS.map((vip) => new Promise<net.Server>((resolve) => { const s = net.createServer((c) => c.end()).listen(vipPort, vip, () => resolve(s)) })))
  const file = queryFile()
  const running: { peer: Peer; port: number; child: ChildProcess }[] = []
  const rows: Row[] = []
  const besideRatios: number[] = []
  try {
    // All servers run at once, each idle but for its health checks while another is measured, so
    // they can take turns round by round.
    for (const peer of peers) {
      const port = await freePort()
      running.push({ peer, port, child: await peer.start(port, vipPort) })
    }
    await new Promise((r) => setTimeout(r, 4500)) // health monitors settle (two probe rounds of gdnsd's 2 s minimum)
    const runs = running.map(() => [] as Awaited<ReturnType<typeof saturate>>[])
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, { peer, port, child }] of running.entries()) {
        process.stderr.write(`round ${round + 1}/${ROUNDS}: ${peer.name} …\n`)
        runs[i]!.push(await saturate(child.pid!, port, file))
      }
    }
    const [floor, signpost] = [running[running.length - 2]!, running[running.length - 1]!]
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}: the raw loop and Signpost side by side …\n`)
      besideRatios.push(await sideBySide({ pid: floor.child.pid!, port: floor.port, file }, { pid: signpost.child.pid!, port: signpost.port, file }))
    }
    for (const [i, { peer, port, child }] of running.entries()) {
      const { qps, cpuUsPerQuery, minUs, maxUs } = summarizeRounds(runs[i]!)
      const latency = await latencyAt(port, file, qps / 2, Math.min(SECONDS, 5))
      rows.push({ name: peer.name, qps: Math.round(qps), cpuUs: cpuUsPerQuery, minUs, maxUs, p50Ms: latency.p50Ms, p99Ms: latency.p99Ms, rssMb: rssMb(child.pid!) })
    }
  } finally {
    for (const { child } of running) await stop(child)
    for (const listener of listeners) listener.close()
    rmSync(work, { recursive: true, force: true })
  }
  const signpost = rows[rows.length - 1]!
  console.log(`\nUDP, ${SECONDS} s per run, ${ROUNDS} rounds (median, range), server on CPU 0, dnsperf on CPU 1; query mix 60% GSLB name, 30% static, 10% NXDOMAIN; latency at half of each server's QPS\n`)
  console.log('| server | QPS | CPU µs/query | range | p50 ms | p99 ms | RSS MB | Signpost QPS ÷ this | this µs ÷ Signpost µs |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) console.log(`| ${r.name} | ${r.qps} | ${r.cpuUs.toFixed(1)} | ${r.minUs.toFixed(1)}–${r.maxUs.toFixed(1)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.rssMb.toFixed(0)} | ${(signpost.qps / r.qps).toFixed(2)}× | ${(r.cpuUs / signpost.cpuUs).toFixed(2)} |`)
  console.log(`\nSide by side (both on CPU 0 at once, each saturated by its own dnsperf on CPU 1, so both see the same CPU speed): Signpost µs ÷ raw loop µs per round ${besideRatios.map((r) => `${r.toFixed(2)}×`).join(' ')}, median ${median(besideRatios).toFixed(2)}×`)
}

await main()
