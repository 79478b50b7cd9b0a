// Real etcd clusters for tests and benchmarks: Debian's etcd-server, each member a process of ours
// on loopback ports, its data in a temp folder. Members are stopped (and killed) by PID only.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureDebianPackages } from './debian.ts'
import { freePort } from './ports.ts'

export type EtcdMember = { readonly name: string; readonly clientUrl: string; readonly peerUrl: string; child: ChildProcess | undefined }

export type EtcdCluster = {
  readonly members: readonly EtcdMember[]
  /** Every member's client URL, for `cluster.etcd.endpoints`. */
  readonly endpoints: readonly string[]
  /** The member that is leader now (asked of every running member). */
  leader(): Promise<EtcdMember>
  /** SIGKILL, as a crash. */
  kill(member: EtcdMember): Promise<void>
  /** Starts a stopped member again on its data folder. */
  restart(member: EtcdMember): Promise<void>
  /** Starts every stopped member again and waits until the cluster and each of them answer. */
  restoreAll(): Promise<void>
  /** Stops every member (SIGTERM) and keeps the data folders, for `restart`. */
  stopAll(): Promise<void>
  /** etcdctl against the running members, as the helper runs it; throws on a non-zero exit. */
  ctl(args: readonly string[]): Promise<string>
  /** From now on the helper's etcdctl authenticates as `name:password` (after `auth enable`). */
  setUser(nameAndPassword: string): void
  /** Every key under `prefix`. */
  keys(prefix: string): Promise<string[]>
  /** A key's value as etcd holds it (linearizable read through etcdctl), or undefined. */
  get(key: string): Promise<string | undefined>
  /** Resolves once the cluster has a leader and answers a linearizable read. */
  healthy(limitMs?: number): Promise<void>
  close(): Promise<void>
}

/** Client TLS for every member: its certificate and key, and the CA clients must present a certificate from. */
export type EtcdTls = { readonly ca: string; readonly cert: string; readonly key: string }

export type EtcdOptions = { readonly tls?: EtcdTls }

export function ensureEtcd(): void {
  ensureDebianPackages({ etcd: 'etcd-server', etcdctl: 'etcd-client' })
}

/** A CA, a certificate for 127.0.0.1 and one for a client, made with openssl in `dir`. */
export function makeEtcdCertificates(dir: string): EtcdTls & { readonly clientCert: string; readonly clientKey: string } {
  const file = (name: string): string => join(dir, name)
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' })
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=signpost test CA')
  for (const [name, cn, ext] of [['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'], ['client', 'signpost', 'extendedKeyUsage=clientAuth']] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`)
    writeFileSync(file(`${name}.ext`), ext)
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '1', '-extfile', file(`${name}.ext`))
  }
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem'), clientCert: file('client.pem'), clientKey: file('client-key.pem') }
}

function etcdctl(endpoints: readonly string[], args: readonly string[], flags: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('etcdctl', [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=1s', '--command-timeout=2s', ...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
}

/** A cluster of `size` members on loopback, started and healthy; with `tls`, clients speak https and must show a certificate. */
export async function startEtcdCluster(size = 3, options: EtcdOptions = {}): Promise<EtcdCluster> {
  ensureEtcd()
  const dir = mkdtempSync(join(tmpdir(), 'signpost-etcd-'))
  const members: EtcdMember[] = []
  const scheme = options.tls ? 'https' : 'http'
  for (let i = 0; i < size; i++) members.push({ name: `etcd${i + 1}`, clientUrl: `${scheme}://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, child: undefined })
  const tlsFlags = options.tls ? ['--cert-file', options.tls.cert, '--key-file', options.tls.key, '--trusted-ca-file', options.tls.ca, '--client-cert-auth'] : []
  // The helper's own etcdctl presents the server's certificate (it is made for client auth too).
  const tlsCtl = options.tls ? ['--cacert', options.tls.ca, '--cert', options.tls.cert, '--key', options.tls.key] : []
  let user: string[] = []
  const run = (endpoints: readonly string[], args: readonly string[]) => etcdctl(endpoints, args, [...tlsCtl, ...user])
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
  let state: 'new' | 'existing' = 'new'
  const launch = (member: EtcdMember): void => {
    member.child = spawn('etcd', [
      '--name', member.name, '--data-dir', join(dir, member.name),
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', state, '--initial-cluster-token', `signpost-test-${process.pid}`,
      // Loopback timings: elections in well under a second, as on a LAN.
      '--heartbeat-interval', '50', '--election-timeout', '500',
      '--log-level', 'warn', '--logger', 'zap',
      ...tlsFlags,
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    member.child.stderr!.resume()
  }
  const endpoints = members.map((m) => m.clientUrl)
  const running = () => members.filter((m) => m.child && m.child.exitCode === null && m.child.signalCode === null)
  const cluster: EtcdCluster = {
    members,
    endpoints,
    async leader() {
      for (;;) {
        const { out } = await run(running().map((m) => m.clientUrl), ['endpoint', 'status', '-w', 'json'])
        try {
          const statuses = JSON.parse(out) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[]
          const leaderStatus = statuses.find((s) => s.Status.leader === s.Status.header.member_id && s.Status.leader !== 0)
          const member = members.find((m) => m.clientUrl === leaderStatus?.Endpoint)
          if (member) return member
        } catch {
          // not every member answered yet
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async kill(member) {
      const child = member.child
      if (!child) return
      child.kill('SIGKILL')
      await exited(child)
      member.child = undefined
    },
    async restart(member) {
      state = 'existing'
      launch(member)
    },
    async restoreAll() {
      // All at once: a member of a stopped cluster serves clients only once a quorum of them is back.
      const stopped = members.filter((m) => !running().includes(m))
      for (const m of stopped) await cluster.restart(m)
      await cluster.healthy()
      const started = Date.now()
      for (const m of stopped) {
        while ((await run([m.clientUrl], ['endpoint', 'status'])).code !== 0) {
          if (Date.now() - started > 20_000) throw new Error(`${m.name} did not answer within 20 s of its restart`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
    },
    async stopAll() {
      await Promise.all(running().map(async (m) => {
        const child = m.child!
        child.kill('SIGTERM')
        await exited(child)
        m.child = undefined
      }))
    },
    async ctl(args) {
      const { code, out } = await run(running().map((m) => m.clientUrl), args)
      if (code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${out}`)
      return out
    },
    setUser(nameAndPassword) {
      user = ['--user', nameAndPassword]
    },
    async keys(prefix) {
      const { code, out } = await run(running().map((m) => m.clientUrl), ['get', '--prefix', '--keys-only', prefix])
      if (code !== 0) throw new Error(`etcdctl get --prefix ${prefix}: ${out}`)
      return out.split('\n').filter(Boolean)
    },
    async get(key) {
      const { code, out } = await run(running().map((m) => m.clientUrl), ['get', '--consistency=l', '--print-value-only', key])
      if (code !== 0) throw new Error(`etcdctl get ${key}: ${out}`)
      return out.trim() === '' ? undefined : out.trim()
    },
    async healthy(limitMs = 20_000) {
      const started = Date.now()
      for (;;) {
        const { code } = await run(endpoints, ['get', '--consistency=l', 'health-probe'])
        if (code === 0) return
        if (Date.now() - started > limitMs) throw new Error(`etcd cluster not healthy within ${limitMs} ms`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async close() {
      await Promise.all(members.map((m) => cluster.kill(m)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  members.forEach(launch)
  await cluster.healthy()
  return cluster
}
