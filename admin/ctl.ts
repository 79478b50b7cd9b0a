// `npm run ctl -- …`: a thin client of the admin API, so operators need not hand-write curl.
// SIGNPOST_ADMIN (default http://127.0.0.1:8053; several instances as a space-separated list, as
// the keepalived notify script takes them) and SIGNPOST_ADMIN_TOKEN say where and who. With
// several, each instance is asked in turn and its reply printed under its address. What the
// server sends back is printed with control characters escaped: an operator's reason cannot
// move the cursor or fake a status line.

import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import type { StatusView } from '../server/state/control.ts'

const USAGE = `usage: npm run ctl -- <command> [--admin URL]...
  (--admin, else SIGNPOST_ADMIN: one admin API, or several space-separated; the default is http://127.0.0.1:8053)
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

const token = process.env['SIGNPOST_ADMIN_TOKEN'] ?? ''

/** A command-line mistake: usage, exit 2, and no request made. */
class UsageError extends Error {}

const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** Text from the server made safe for a terminal: C0 and C1 controls and DEL as \u escapes. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, unicodeEscape)
}

const say = (line: string): void => console.log(printable(line))
/** JSON as it came, indented; JSON.stringify already escapes C0 controls inside strings, so only C1, DEL and the line separators are left to escape. */
const sayJson = (json: unknown): void => console.log(JSON.stringify(json, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, unicodeEscape))

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
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
    say(`fleet: ${instance}, ${connected ? `connected to etcd, verdicts by ${rule}` : `CUT OFF from etcd (${problem}): last known state, own verdicts, writes refused`}`)
  }
  for (const name of status.names) {
    for (const family of ['v4', 'v6'] as const) {
      const f = name[family]
      if (f) say(`${name.name} ${family === 'v4' ? 'A' : 'AAAA'} ${name.policy}: ${f.reason}, answering ${f.answering.join(' ') || '(nothing)'}`)
    }
  }
  for (const site of status.sites) {
    const vips = site.vips.map((v) => `${v.address} ${v.health}`).join(', ')
    const nodesUp = site.lbPair.nodes.filter((n) => n.probe !== 'down' && n.keepalived !== 'FAULT' && n.keepalived !== 'STOP').length
    const verdict = site.lbPair.down ? ' — PAIR DOWN (keepalived)' : nodesUp === 0 ? ' — no LB node up' : site.lbPair.degraded ? ' — no redundancy' : ''
    const pair = site.lbPair.nodes.length === 0 ? '' : `; LB ${site.lbPair.nodes.map((n) => `${n.name} ${n.probe}${n.keepalived ? `/${n.keepalived}` : ''}`).join(', ')}${verdict}`
    const admin = site.admin ? `; admin ${site.admin.state}${site.admin.weight !== undefined ? ` weight ${site.admin.weight}` : ''} (${site.admin.reason})` : ''
    say(`site ${site.name}: ${vips}${pair}${admin}`)
  }
  for (const server of status.servers) if (server.fleet && server.fleet.vantagePoints.length > 1) say(`server ${server.address}: ${server.fleet.summary}`)
  for (const orphan of status.orphanedOverrides) {
    const id = orphan.target.kind === 'site' ? orphan.target.site : orphan.target.address
    say(`override of ${orphan.target.kind} ${id} (${orphan.state}, ${orphan.reason}) is left from a target the config no longer has: npm run ctl -- clear ${id} state`)
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
  say(`${e.name} ${e.type} (${e.policy})`)
  say(`  located by ${e.located.by}: ${e.located.address} → ${e.geoip.network ? `${e.geoip.network} ${e.geoip.country ?? ''} ${e.geoip.continent ?? ''}`.trim() : e.geoip.note}; ECS scope ${e.ecsScope}`)
  for (const s of e.servers) say(`  ${s.eligibility.padEnd(5)} ${s.address} (${s.site}, weight ${s.weight}): ${s.why}${s.shed ? `; ${s.shed}` : ''}`)
  say(`  ${e.choice.reason ? `${e.choice.reason}; ` : ''}${e.choice.step}`)
  say(`  answer: ${e.answer.rcode}, TTL ${e.answer.ttl}: ${e.answer.addresses.join(' ') || '(no addresses)'}`)
}

/** The request a command makes, and how a 200 is printed (JSON unless said). */
type Request = { readonly method: string; readonly path: string; readonly body?: unknown; readonly print?: (json: unknown) => void }

function request(positionals: readonly string[], values: Record<string, string | boolean | string[] | undefined>): Request {
  const extra = { ...(values['force'] ? { force: true } : {}), ...(values['for'] !== undefined ? { for: values['for'] } : {}), ...(values['until'] !== undefined ? { until: values['until'] } : {}) }
  const reason = values['reason'] as string | undefined
  const [command, target, weight] = positionals
  switch (command) {
    case 'status':
      return { method: 'GET', path: '/v1/status', print: (json) => printStatus(json as StatusView) }
    case 'disable':
    case 'enable':
    case 'drain':
    case 'up':
      if (!target || !reason) throw new UsageError(`${command} needs a server address or site, and --reason`)
      return { method: 'PUT', path: `${targetPath(target)}/state`, body: { state: command === 'disable' ? 'disabled' : command === 'enable' ? 'enabled' : command, reason, ...extra } }
    case 'weight':
      if (!target || weight === undefined || !/^\d+$/.test(weight) || !reason) throw new UsageError('weight needs a server address or site, a whole weight from 0 to 1000, and --reason')
      return { method: 'PUT', path: `${targetPath(target)}/weight`, body: { weight: Number(weight), reason, ...extra } }
    case 'clear':
      if (!target || (weight !== 'state' && weight !== 'weight')) throw new UsageError('clear needs a server address or site, then state or weight')
      return { method: 'DELETE', path: `${targetPath(target)}/${weight}?${new URLSearchParams({ ...(reason ? { reason } : {}), ...(values['force'] ? { force: 'true' } : {}) })}` }
    case 'explain':
      if (!target || !weight) throw new UsageError('explain needs a name and a client address')
      return { method: 'GET', path: `/v1/explain?${new URLSearchParams({ name: target, client: weight, ...(values['ecs'] ? { ecs: values['ecs'] as string } : {}), ...(values['type'] ? { type: (values['type'] as string).toUpperCase() } : {}) })}`, print: (json) => printExplanation(json as Explanation) }
    case 'reload':
      return { method: 'POST', path: '/v1/reload' }
    case 'audit':
      if (target !== undefined && !/^\d+$/.test(target)) throw new UsageError(`audit takes a number of entries, not '${target}'`)
      return { method: 'GET', path: `/v1/audit${target ? `?limit=${target}` : ''}` }
    case 'fleet':
      return { method: 'GET', path: '/v1/fleet' }
    default:
      throw new UsageError(command === undefined ? 'which command?' : `no command '${command}'`)
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: { reason: { type: 'string' }, force: { type: 'boolean' }, for: { type: 'string' }, until: { type: 'string' }, ecs: { type: 'string' }, type: { type: 'string' }, admin: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true })
  } catch (error) {
    return usage((error as Error).message)
  }
  if (parsed.values.help) {
    console.log(USAGE)
    return 0
  }
  let planned: Request
  try {
    planned = request(parsed.positionals, parsed.values)
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message)
    throw error
  }
  const bases = parsed.values.admin ?? (process.env['SIGNPOST_ADMIN'] ?? 'http://127.0.0.1:8053').split(/\s+/).filter(Boolean)
  let failed = false
  for (const base of bases) {
    if (bases.length > 1) say(`== ${base}`)
    try {
      const reply = await call(base.replace(/\/$/, ''), planned.method, planned.path, planned.body)
      if (reply.status === 200 && planned.print) planned.print(reply.json)
      else sayJson(reply.json)
      if (reply.status >= 400) failed = true
    } catch (error) {
      say(`ctl: no answer from the admin API at ${base}: ${(error as Error).message}`)
      failed = true
    }
  }
  return failed ? 1 : 0
}

function usage(problem: string): number {
  console.error(`${printable(problem)}\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`ctl: ${(error as Error).message}`)
    process.exitCode = 1
  },
)
