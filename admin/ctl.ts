// `npm run ctl -- …`: a thin client of the admin API, so operators need not hand-write curl.
// SIGNPOST_ADMIN (default http://127.0.0.1:8053) and SIGNPOST_ADMIN_TOKEN say where and who.

import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import type { StatusView } from '../server/state/control.ts'

const USAGE = `usage: npm run ctl -- <command>
  status
  disable|enable|drain|up <server address | site> --reason "…" [--for 2h | --until TIME] [--force]
  weight <server address | site> <0-1000> --reason "…" [--for 2h | --until TIME] [--force]
  clear <server address | site> state|weight [--reason "…"] [--force]
    (--for/--until: the override ends by itself then; --force: even when the change leaves
     GSLB names with no server to answer)
  explain <name> <client address> [--ecs NETWORK] [--type A|AAAA]   why this client gets this answer
  reload
  audit [N]          the newest N operator changes (the whole fleet's in a fleet)
  fleet              the fleet's instances, and which differ`

const base = process.env['SIGNPOST_ADMIN'] ?? 'http://127.0.0.1:8053'
const token = process.env['SIGNPOST_ADMIN_TOKEN'] ?? ''

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: response.status, json: await response.json() }
}

function targetPath(target: string): string {
  return isIP(target) ? `/v1/servers/${encodeURIComponent(target)}` : `/v1/sites/${encodeURIComponent(target)}`
}

function printStatus(status: StatusView): void {
  if (status.fleet) {
    const { instance, connected, problem, rule } = status.fleet
    console.log(`fleet: ${instance}, ${connected ? `connected to etcd, verdicts by ${rule}` : `CUT OFF from etcd (${problem}): last known state, own verdicts, writes refused`}`)
  }
  for (const name of status.names) {
    for (const family of ['v4', 'v6'] as const) {
      const f = name[family]
      if (f) console.log(`${name.name} ${family === 'v4' ? 'A' : 'AAAA'} ${name.policy}: ${f.reason}, answering ${f.answering.join(' ') || '(nothing)'}`)
    }
  }
  for (const site of status.sites) {
    const vips = site.vips.map((v) => `${v.address} ${v.health}`).join(', ')
    const nodesUp = site.lbPair.nodes.filter((n) => n.probe !== 'down' && n.keepalived !== 'FAULT' && n.keepalived !== 'STOP').length
    const verdict = site.lbPair.down ? ' — PAIR DOWN (keepalived)' : nodesUp === 0 ? ' — no LB node up' : site.lbPair.degraded ? ' — no redundancy' : ''
    const pair = site.lbPair.nodes.length === 0 ? '' : `; LB ${site.lbPair.nodes.map((n) => `${n.name} ${n.probe}${n.keepalived ? `/${n.keepalived}` : ''}`).join(', ')}${verdict}`
    const admin = site.admin ? `; admin ${site.admin.state}${site.admin.weight !== undefined ? ` weight ${site.admin.weight}` : ''} (${site.admin.reason})` : ''
    console.log(`site ${site.name}: ${vips}${pair}${admin}`)
  }
  for (const server of status.servers) if (server.fleet && server.fleet.vantagePoints.length > 1) console.log(`server ${server.address}: ${server.fleet.summary}`)
  for (const orphan of status.orphanedOverrides) {
    const id = orphan.target.kind === 'site' ? orphan.target.site : orphan.target.address
    console.log(`override of ${orphan.target.kind} ${id} (${orphan.state}, ${orphan.reason}) is left from a target the config no longer has: npm run ctl -- clear ${id} state`)
  }
}

type Explanation = {
  name: string; type: string; policy: string; ecsScope: number
  located: { by: string; address: string }
  geoip: { network: string | null; country?: string; continent?: string; note?: string }
  servers: { address: string; site: string; eligibility: string; why: string; weight: number; shed?: string }[]
  choice: { step: string; reason?: string }
  answer: { rcode: string; ttl: number; addresses: string[] }
}

function printExplanation(e: Explanation): void {
  console.log(`${e.name} ${e.type} (${e.policy})`)
  console.log(`  located by ${e.located.by}: ${e.located.address} → ${e.geoip.network ? `${e.geoip.network} ${e.geoip.country ?? ''} ${e.geoip.continent ?? ''}`.trim() : e.geoip.note}; ECS scope ${e.ecsScope}`)
  for (const s of e.servers) console.log(`  ${s.eligibility.padEnd(5)} ${s.address} (${s.site}, weight ${s.weight}): ${s.why}${s.shed ? `; ${s.shed}` : ''}`)
  console.log(`  ${e.choice.reason ? `${e.choice.reason}; ` : ''}${e.choice.step}`)
  console.log(`  answer: ${e.answer.rcode}, TTL ${e.answer.ttl}: ${e.answer.addresses.join(' ') || '(no addresses)'}`)
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { reason: { type: 'string' }, force: { type: 'boolean' }, for: { type: 'string' }, until: { type: 'string' }, ecs: { type: 'string' }, type: { type: 'string' } }, allowPositionals: true })
  const extra = { ...(values.force ? { force: true } : {}), ...(values.for !== undefined ? { for: values.for } : {}), ...(values.until !== undefined ? { until: values.until } : {}) }
  const [command, target, weight] = positionals
  let reply: { status: number; json: unknown }
  switch (command) {
    case 'status':
      reply = await call('GET', '/v1/status')
      if (reply.status === 200) {
        printStatus(reply.json as StatusView)
        return 0
      }
      break
    case 'disable':
    case 'enable':
    case 'drain':
    case 'up':
      if (!target || !values.reason) return usage()
      reply = await call('PUT', `${targetPath(target)}/state`, { state: command === 'disable' ? 'disabled' : command === 'enable' ? 'enabled' : command, reason: values.reason, ...extra })
      break
    case 'weight':
      if (!target || weight === undefined || !values.reason) return usage()
      reply = await call('PUT', `${targetPath(target)}/weight`, { weight: Number(weight), reason: values.reason, ...extra })
      break
    case 'clear':
      if (!target || (weight !== 'state' && weight !== 'weight')) return usage()
      reply = await call('DELETE', `${targetPath(target)}/${weight}?${new URLSearchParams({ ...(values.reason ? { reason: values.reason } : {}), ...(values.force ? { force: 'true' } : {}) })}`)
      break
    case 'explain':
      if (!target || !weight) return usage()
      reply = await call('GET', `/v1/explain?${new URLSearchParams({ name: target, client: weight, ...(values.ecs ? { ecs: values.ecs } : {}), ...(values.type ? { type: values.type.toUpperCase() } : {}) })}`)
      if (reply.status === 200) {
        printExplanation(reply.json as Explanation)
        return 0
      }
      break
    case 'reload':
      reply = await call('POST', '/v1/reload')
      break
    case 'audit':
      reply = await call('GET', `/v1/audit${target ? `?limit=${encodeURIComponent(target)}` : ''}`)
      break
    case 'fleet':
      reply = await call('GET', '/v1/fleet')
      break
    default:
      return usage()
  }
  console.log(JSON.stringify(reply.json, null, 2))
  return reply.status < 400 ? 0 : 1
}

function usage(): number {
  console.error(USAGE)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`ctl: ${(error as Error).message} (is Signpost's admin API at ${base}?)`)
    process.exitCode = 1
  },
)
