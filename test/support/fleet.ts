// A fleet of Signpost instances on loopback for tests and benchmarks: a zone and config written to
// a temp folder (one config per instance, so each can probe from its own source address), each
// instance a `signpost serve` process of its own, an etcd cluster from etcd.ts.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSignpost, type ServerProcess } from './process.ts'
import { askA as askUdp } from './query.ts'

export const TOKEN = 'fleet-token'
/** Site a answers with A_VIP, site b with B_VIP (documentation addresses: answers only, never probed unless checked). */
export const A_VIP = '192.0.2.10'
export const B_VIP = '198.51.100.10'

export type FleetFixture = {
  /** The folder the configs and zones are in. */
  readonly dir: string
  /** Writes the config of one instance; returns its path. */
  config(instance: string, options?: InstanceOptions): string
}

export type InstanceOptions = {
  readonly prefix?: string
  /** health.source_address: the loopback address this instance probes from. */
  readonly sourceAddress?: string
  readonly rule?: string | number
  /** A site `c` whose VIP is `checked.address`, probed by HTTP on `checked.port` (interval 200 ms, rise 1, fall 1). */
  readonly checked?: { readonly address: string; readonly port: number }
  /** Zone serial (a different one makes a split brain /v1/fleet flags). */
  readonly serial?: number
  readonly leaseTtlS?: number
}

export function fleetFixture(endpoints: readonly string[]): FleetFixture {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-fleet-'))
  return {
    dir,
    config(instance, options = {}) {
      const zones = join(dir, `zones-${instance}`)
      mkdirSync(zones, { recursive: true })
      const checked = options.checked
      writeFileSync(join(zones, 'fleet.test.zone'), `$ORIGIN fleet.test.
$TTL 60
@ SOA ns1 hostmaster ${options.serial ?? 1} 3600 900 604800 60
@ NS ns1
ns1 A 192.0.2.1
www 5 A ${A_VIP}
www 5 A ${B_VIP}
${checked ? `www 5 A ${checked.address}\nchecked 5 A ${checked.address}\nchecked 5 A ${A_VIP}\n` : ''}`)
      const file = join(dir, `${instance}.yaml`)
      // The tests poll an instance's answers every millisecond from loopback: exempt from rate limiting.
      writeFileSync(file, `zones: zones-${instance}
workers: 1
rrl: { exempt: [127.0.0.0/8] }
cluster:
  instance: ${instance}
  etcd:
    endpoints: [${endpoints.join(', ')}]
    prefix: ${options.prefix ?? '/signpost/test'}
    lease_ttl_s: ${options.leaseTtlS ?? 3}
health:
  fleet_rule: ${options.rule ?? 'majority'}
${options.sourceAddress ? `  source_address: ${options.sourceAddress}\n` : ''}${checked ? `checks:\n  web: { type: http, port: ${checked.port}, interval_ms: 200, timeout_ms: 300, rise: 1, fall: 1 }\n` : ''}sites:
  a: { vips: [${A_VIP}], lb_pair: { a-lb1: 127.0.0.21, a-lb2: 127.0.0.22 } }
  b: { vips: [${B_VIP}] }
${checked ? `  c: { vips: [${checked.address}], check: web }\n` : ''}names:
  www.fleet.test.: { policy: all }
${checked ? '  checked.fleet.test.: { policy: all }\n' : ''}`)
      return file
    },
  }
}

/** `cwd`: where an earlier instance ran, to start it again on its state file (etcd's cache). */
export async function startInstance(config: string, cwd?: string): Promise<ServerProcess> {
  const previous = process.env['SIGNPOST_ADMIN_TOKEN']
  process.env['SIGNPOST_ADMIN_TOKEN'] = TOKEN
  try {
    return await spawnSignpost(['--config', config], [], undefined, cwd)
  } finally {
    if (previous === undefined) delete process.env['SIGNPOST_ADMIN_TOKEN']
    else process.env['SIGNPOST_ADMIN_TOKEN'] = previous
  }
}

/** The addresses in the answer to an A query for `name`, sorted. */
export async function askA(port: number, name: string): Promise<string[]> {
  return (await askUdp(port, name)).addresses
}

export type Reply = { readonly status: number; readonly body: Record<string, unknown> }

export async function admin(instance: ServerProcess, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${instance.adminPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}
