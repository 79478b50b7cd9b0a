// The multi-site lab, on real parts, inside network namespaces this module makes (nothing leaves
// the machine; nothing is added to the root namespace): one bridge in `lab-switch`, and per host
// a namespace with a veth into it, all on 10.99.0.0/24.
//   lab-root        Knot: the root zone and `test.`, delegating example.test. to ns1/ns2 (the registrar)
//   lab-ns1/ns2     Signpost, serving test/lab/zones (one worker each), the delegated name servers
//   lab-ns3         Signpost too, a third vantage point of the fleet that nobody delegates to
//   lab-etcd1/2/3   the fleet's etcd cluster (ns1, ns2 and ns3 share operator state and health through it)
//   lab-client      unbound, iterating from the lab root (127.0.0.1:53 inside the namespace)
//   lab-<site>-lb1/2  keepalived (VRRP) sharing the site VIP + haproxy on :80 → the site's backends
//   lab-<site>-be1/2  an HTTP backend on :8080
// `up()` first tears down whatever a previous run left, so bringing the lab up is idempotent;
// `down()` kills every process inside the lab namespaces and deletes them.

import { execFile, execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ensureDebianPackages } from '../support/debian.ts'
import { runSignpost } from '../support/process.ts'
import { until as waitUntil } from '../support/wait.ts'

const run = promisify(execFile)
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const LAB_DIR = join(REPO, 'var/lab')
export const ADMIN_TOKEN = 'lab-token'
const PREFIX = 'lab-'
const SWITCH = 'lab-switch'

export type Site = { readonly name: string; readonly vip: string; readonly lbs: readonly [string, string]; readonly backends: readonly [string, string]; readonly routerId: number }

function site(name: string, base: number): Site {
  const at = (n: number): string => `10.99.0.${base + n}`
  return { name, vip: at(0), lbs: [at(1), at(2)], backends: [at(5), at(6)], routerId: base }
}

export const SITES: readonly Site[] = [site('tokyo', 20), site('osaka', 30), site('frankfurt', 40)]
/** Each site's HAProxy takes this many sessions at once: its capacity. */
export const SITE_SESSIONS = 20
export const ROOT = '10.99.0.2'
export const NS1 = '10.99.0.11'
export const NS2 = '10.99.0.12'
export const NS3 = '10.99.0.13'
export const CLIENT = '10.99.0.100'
export const ETCD = ['10.99.0.51', '10.99.0.52', '10.99.0.53'] as const
export const ETCD_ENDPOINTS = ETCD.map((a) => `http://${a}:2379`)
export const etcdNamespace = (i: number): string => `lab-etcd${i + 1}`

type Host = { readonly ns: string; readonly address: string }

function hosts(): Host[] {
  const list: Host[] = [
    { ns: 'lab-root', address: ROOT },
    { ns: 'lab-ns1', address: NS1 },
    { ns: 'lab-ns2', address: NS2 },
    { ns: 'lab-ns3', address: NS3 },
    ...ETCD.map((address, i) => ({ ns: etcdNamespace(i), address })),
    { ns: 'lab-client', address: CLIENT },
  ]
  for (const s of SITES) {
    s.lbs.forEach((address, i) => list.push({ ns: lbNamespace(s, i), address }))
    s.backends.forEach((address, i) => list.push({ ns: backendNamespace(s, i), address }))
  }
  return list
}

export const lbNamespace = (s: Site, i: number): string => `lab-${s.name}-lb${i + 1}`
export const backendNamespace = (s: Site, i: number): string => `lab-${s.name}-be${i + 1}`

export function ensureLabPackages(): void {
  ensureDebianPackages({ ip: 'iproute2', keepalived: 'keepalived', haproxy: 'haproxy', knotd: 'knot', unbound: 'unbound', curl: 'curl', dig: 'bind9-dnsutils', 'dnssec-settime': 'bind9-utils', knotc: 'knot', 'zonemaster-cli': 'zonemaster-cli', etcd: 'etcd-server', etcdctl: 'etcd-client', fping: 'fping' })
}

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** Runs a command inside a lab namespace; resolves with stdout, rejects on a non-zero exit. */
export async function inNamespace(ns: string, command: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, command, ...args], { timeout: timeoutMs })
  return stdout
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function labNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  return out.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(PREFIX))
}

/** Every process in a lab namespace is one the lab started: kill them all, then delete the namespaces. */
export function down(): void {
  const namespaces = labNamespaces()
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    let left = 0
    for (const ns of namespaces) {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
      for (const pid of pids) {
        left++
        try {
          process.kill(pid, signal)
        } catch {
          // already gone
        }
      }
    }
    if (left === 0) break
    execFileSync('sleep', ['0.5'])
  }
  for (const ns of namespaces) ip('netns', 'del', ns)
}

/** Starts a long-running process in a namespace, detached (it outlives `npm run lab`), logging to var/lab/logs. */
function launch(ns: string, name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const log = openSync(join(LAB_DIR, 'logs', `${name}.log`), 'a')
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { detached: true, stdio: ['ignore', log, log], cwd: options.cwd ?? LAB_DIR, env: { ...process.env, ...options.env } })
  child.unref()
}

function network(): void {
  ip('netns', 'add', SWITCH)
  ip('-n', SWITCH, 'link', 'add', 'br0', 'type', 'bridge')
  ip('-n', SWITCH, 'link', 'set', 'br0', 'up')
  hosts().forEach((host, i) => {
    ip('netns', 'add', host.ns)
    ip('-n', host.ns, 'link', 'set', 'lo', 'up')
    ip('-n', host.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', SWITCH)
    ip('-n', SWITCH, 'link', 'set', `p${i}`, 'master', 'br0', 'up')
    ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0')
    ip('-n', host.ns, 'link', 'set', 'eth0', 'up')
  })
}

/** The lab's example.test keys (made fresh by `signpost keys new` at every lab start) and its config pointing at them. */
export const KEYS_DIR = join(LAB_DIR, 'keys')
const LAB_CONFIG = join(LAB_DIR, 'signpost.yaml')
const KNOT_DIR = join(LAB_DIR, 'knot')


/** The lab's signpost.yaml, with the zones and GeoIP database where they are and DNSSEC on. */
function labConfig(): void {
  mkdirSync(KEYS_DIR, { recursive: true })
  runSignpost(['keys', 'new', 'example.test', '--dir', KEYS_DIR])
  const zones = join(REPO, 'test/lab/zones')
  const text = readFileSync(join(zones, 'signpost.yaml'), 'utf8').replace('zones: .', `zones: ${zones}`).replace('../../../zones/geoip/', `${join(REPO, 'zones/geoip')}/`)
  // A short DNSKEY TTL, so a key roll in the lab takes seconds.
  writeFileSync(LAB_CONFIG, `${text}
dnssec: { keys_dir: ${KEYS_DIR}, dnskey_ttl: 5 }
`)
}

/** test.'s zone as the registrar holds it: the delegation to ns1/ns2 and the DS records given. */
export function writeTestZone(ds: readonly string[]): void {
  writeFileSync(join(KNOT_DIR, 'test.zone'), `test. 300 SOA a.root. hostmaster.root. ${Math.floor(Date.now() / 1000)} 1800 900 604800 300
test. 300 NS a.root.
example.test. 300 NS ns1.example.test.
example.test. 300 NS ns2.example.test.
${ds.map((record) => record.replace(' IN DS ', ' 5 IN DS ')).join('\n')}
ns1.example.test. 300 A ${NS1}
ns2.example.test. 300 A ${NS2}
`)
}

/** A root hints file for tools that iterate from the lab root (Zonemaster). */
export function rootHints(): string {
  const file = join(LAB_DIR, 'root.hints')
  writeFileSync(file, `. 3600000 NS a.root.\na.root. 3600000 A ${ROOT}\n`)
  return file
}

/** The DS records `signpost ds` gives for example.test now. */
export function currentDs(): string[] {
  return runSignpost(['ds', 'example.test', '--dir', KEYS_DIR]).split('\n').filter(Boolean).map((line) => line.split(' ;')[0] as string)
}

/** Knot reads test.zone again (knotc over its control socket, which the namespaces share). */
export async function reloadRegistrar(): Promise<void> {
  await inNamespace('lab-root', 'knotc', ['-c', join(KNOT_DIR, 'knot.conf'), 'zone-reload', 'test.'])
}

function registrar(): void {
  const dir = KNOT_DIR
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'root.zone'), `. 86400 SOA a.root. hostmaster.root. 1 1800 900 604800 300
. 86400 NS a.root.
a.root. 86400 A ${ROOT}
test. 86400 NS a.root.
`)
  writeTestZone(currentDs())
  writeFileSync(join(dir, 'knot.conf'), `server:
  listen: ${ROOT}@53
  rundir: ${dir}
database:
  storage: ${dir}
log:
  - target: stderr
    any: info
# test. is signed by Knot: the lab resolver's trust anchor is its key, and it holds our DS.
policy:
  - id: lab
    algorithm: ecdsap256sha256
    single-type-signing: on
zone:
  - domain: .
    storage: ${dir}
    file: root.zone
  - domain: test.
    storage: ${dir}
    file: test.zone
    dnssec-signing: on
    dnssec-policy: lab
    zonefile-sync: -1
`)
  launch('lab-root', 'knot', 'knotd', ['-c', join(dir, 'knot.conf')])
}

function signposts(): void {
  for (const [name, address] of [['ns1', NS1], ['ns2', NS2], ['ns3', NS3]] as const) {
    // Each instance in its own working directory: its own state file (etcd's cache) and audit log.
    const cwd = join(LAB_DIR, name)
    mkdirSync(cwd, { recursive: true })
    launch(`lab-${name}`, name, process.execPath, [join(REPO, 'server/main.ts'), 'serve', '--config', LAB_CONFIG, '--instance', name, '--listen', `${address}:53`, '--admin', `${address}:8053`, '--workers', '1'], { cwd, env: { SIGNPOST_ADMIN_TOKEN: ADMIN_TOKEN } })
  }
}

/** The fleet's 3-member etcd cluster, one member per namespace. */
function etcdCluster(): void {
  ETCD.forEach((_address, i) => startEtcdMember(i))
}

export function startEtcdMember(i: number): void {
  const address = ETCD[i]!
  const cluster = ETCD.map((a, n) => `etcd${n + 1}=http://${a}:2380`).join(',')
  launch(etcdNamespace(i), `etcd${i + 1}`, 'etcd', [
    '--name', `etcd${i + 1}`, '--data-dir', join(LAB_DIR, `etcd${i + 1}`),
    '--listen-client-urls', `http://${address}:2379`, '--advertise-client-urls', `http://${address}:2379`,
    '--listen-peer-urls', `http://${address}:2380`, '--initial-advertise-peer-urls', `http://${address}:2380`,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'signpost-lab',
    '--log-level', 'warn', '--logger', 'zap',
  ])
}

/** etcdctl from the client namespace, against every member; stdout. */
export function etcdctl(args: readonly string[]): Promise<string> {
  return inNamespace('lab-client', 'etcdctl', [`--endpoints=${ETCD_ENDPOINTS.join(',')}`, '--dial-timeout=1s', '--command-timeout=2s', ...args])
}

/** Every member answers and the cluster has a leader (etcdctl exits 0; it prints health on stderr). */
export async function etcdHealthy(): Promise<boolean> {
  await etcdctl(['endpoint', 'health'])
  return true
}

/** The index (0-2) of the etcd member that leads now. */
export async function etcdLeader(): Promise<number> {
  const statuses = JSON.parse(await etcdctl(['endpoint', 'status', '-w', 'json'])) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[]
  const leader = statuses.find((s) => s.Status.leader === s.Status.header.member_id)
  const index = ETCD_ENDPOINTS.indexOf(leader?.Endpoint ?? '')
  if (index < 0) throw new Error('no etcd leader')
  return index
}

/** unbound validates, with test.'s key (as Knot signs it) as its trust anchor: the root here is unsigned. */
async function resolver(): Promise<void> {
  const anchor = (await inNamespace('lab-client', 'dig', ['+short', '+time=1', `@${ROOT}`, 'test.', 'DNSKEY'])).split('\n').find((line) => line.startsWith('257 '))
  if (!anchor) throw new Error('Knot serves no KSK for test.')
  const dir = join(LAB_DIR, 'unbound')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'root.hints'), `. 3600000 NS a.root.\na.root. 3600000 A ${ROOT}\n`)
  writeFileSync(join(dir, 'unbound.conf'), `server:
  interface: 127.0.0.1
  port: 53
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  verbosity: 1
  root-hints: "${dir}/root.hints"
  module-config: "validator iterator"
  trust-anchor: "test. DNSKEY ${anchor}"
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  cache-max-negative-ttl: 5
  prefetch: no
  # test. is special-use (RFC 6761): unbound answers it locally unless told not to.
  local-zone: "test." nodefault
`)
  launch('lab-client', 'unbound', 'unbound', ['-d', '-c', join(dir, 'unbound.conf')])
}

function sites(): void {
  for (const s of SITES) {
    s.backends.forEach((_address, i) => startBackend(s, i))
    s.lbs.forEach((_address, i) => {
      const node = `${s.name}-lb${i + 1}`
      const dir = join(LAB_DIR, node)
      mkdirSync(dir, { recursive: true })
      // The web frontend's maxconn is the site's capacity Signpost reads (stats on :8404); a
      // client that goes frees its session at once (abortonclose), so load ends when it does.
      writeFileSync(join(dir, 'haproxy.cfg'), `global
  maxconn 512
defaults
  mode http
  timeout connect 500ms
  timeout client 10s
  timeout server 10s
  retries 3
  option redispatch
  option abortonclose
frontend web
  bind :80
  maxconn ${SITE_SESSIONS}
  default_backend app
frontend stats
  bind :8404
  stats enable
  stats uri /stats
backend app
  option httpchk GET /
${s.backends.map((b, n) => `  server be${n + 1} ${b}:8080 check inter 500 fall 1 rise 1`).join('\n')}
`)
      // The notify script from examples/, told about both Signpost instances.
      const notify = join(dir, 'notify.sh')
      writeFileSync(notify, `#!/bin/sh\nSIGNPOST_ADMIN="http://${NS1}:8053 http://${NS2}:8053" SIGNPOST_ADMIN_TOKEN=${ADMIN_TOKEN} exec ${join(REPO, 'examples/keepalived-notify.sh')} ${s.name} ${node} "$@"\n`)
      chmodSync(notify, 0o755)
      writeFileSync(join(dir, 'keepalived.conf'), `global_defs {
  router_id ${node}
  script_user root
  vrrp_version 3
}
vrrp_instance ${s.name} {
  state BACKUP
  interface eth0
  virtual_router_id ${s.routerId}
  priority ${i === 0 ? 150 : 100}
  advert_int 0.25
  virtual_ipaddress {
    ${s.vip}/24 dev eth0
  }
  notify "${notify}"
}
`)
      launch(lbNamespace(s, i), `${node}-haproxy`, 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')])
    })
  }
}

/** VRRP on every LB node; started once Signpost listens, so it hears the first MASTER/BACKUP notifications. */
function vrrp(): void {
  for (const s of SITES) s.lbs.forEach((_address, i) => startKeepalived(s, i))
}

export function startKeepalived(s: Site, i: number): void {
  const dir = join(LAB_DIR, `${s.name}-lb${i + 1}`)
  launch(lbNamespace(s, i), `${s.name}-lb${i + 1}-keepalived`, 'keepalived', ['--dont-fork', '--log-console', '--vrrp', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid')])
}

export function startBackend(s: Site, i: number): void {
  launch(backendNamespace(s, i), `${s.name}-be${i + 1}`, process.execPath, [join(REPO, 'test/lab/backend.ts'), `${s.name}-be${i + 1}`])
}

/** support/wait.ts `until`, polling every 100 ms: each lab check is a process in a namespace. */
export function until(check: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  return waitUntil(check, limitMs, what, 100)
}

/** `dig +short` from the client namespace: the A records in the answer, sorted. */
export async function digFromClient(server: string, name: string, extra: readonly string[] = []): Promise<string[]> {
  const out = await inNamespace('lab-client', 'dig', ['+short', '+time=1', '+tries=1', `@${server}`, name, 'A', ...extra])
  return out.split('\n').filter((line) => /^\d+\.\d+\.\d+\.\d+$/.test(line)).sort()
}

/** An admin API call from the client namespace; the parsed JSON reply. */
export async function admin(server: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const args = ['-fsS', '--max-time', '3', '-X', method, `http://${server}:8053${path}`, '-H', `Authorization: Bearer ${ADMIN_TOKEN}`]
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body))
  return JSON.parse(await inNamespace('lab-client', 'curl', args)) as unknown
}

export type SiteView = {
  readonly vips: readonly { readonly address: string; readonly health: string }[]
  readonly lbPair: { readonly degraded: boolean; readonly down: boolean; readonly nodes: readonly { readonly name: string; readonly probe: string; readonly keepalived?: string }[] }
}

export async function siteView(server: string, name: string): Promise<SiteView> {
  return (await admin(server, 'GET', `/v1/sites/${name}`)) as SiteView
}

/** Brings the whole lab up from nothing and waits until a client resolves www.example.test. */
export async function up(): Promise<void> {
  down()
  rmSync(LAB_DIR, { recursive: true, force: true })
  mkdirSync(join(LAB_DIR, 'logs'), { recursive: true })
  labConfig()
  network()
  sites()
  registrar()
  etcdCluster()
  await until(etcdHealthy, 30_000, 'etcd answers')
  signposts()
  await until(async () => (await inNamespace('lab-client', 'dig', ['+short', '+time=1', `@${ROOT}`, 'test', 'SOA'])).includes('a.root.'), 20_000, 'Knot answers')
  await until(async () => (await inNamespace('lab-client', 'dig', ['+short', '+time=1', `@${ROOT}`, 'test', 'DNSKEY'])).includes('257 3 13'), 20_000, 'Knot signs test.')
  await resolver()
  for (const server of [NS1, NS2, NS3]) await until(async () => (await inNamespace('lab-client', 'curl', ['-fsS', `http://${server}:8053/healthz`])).length > 0, 20_000, `Signpost at ${server} listens`)
  vrrp()
  for (const server of [NS1, NS2]) await until(async () => (await digFromClient(server, 'www.example.test')).length === SITES.length && (await siteView(server, 'tokyo')).vips[0]?.health === 'up', 30_000, `Signpost at ${server} answers every site`)
  await until(async () => (await digFromClient('127.0.0.1', 'www.example.test')).length > 0, 20_000, 'unbound resolves www.example.test')
}
