// Real etcd clusters for tests and benchmarks: Debian's etcd-server, each member a process of ours
// on loopback ports, its data in a temp folder. Members are stopped (and killed) by PID only.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureDebianPackages } from './debian.ts'

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
  /** Every key under `prefix`. */
  keys(prefix: string): Promise<string[]>
  /** A key's value as etcd holds it (linearizable read through etcdctl), or undefined. */
  get(key: string): Promise<string | undefined>
  /** Resolves once the cluster has a leader and answers a linearizable read. */
  healthy(limitMs?: number): Promise<void>
  close(): Promise<void>
}

export function ensureEtcd(): void {
  ensureDebianPackages({ etcd: 'etcd-server', etcdctl: 'etcd-client' })
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function etcdctl(endpoints: readonly string[], args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('etcdctl', [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=1s', '--command-timeout=2s', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
}

/** A cluster of `size` members on loopback, started and healthy. */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  ensureEtcd()
  const dir = mkdtempSync(join(tmpdir(), 'signpost-etcd-'))
  const members: EtcdMember[] = []
  for (let i = 0; i < size; i++) members.push({ name: `etcd${i + 1}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, child: undefined })
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
        const { out } = await etcdctl(running().map((m) => m.clientUrl), ['endpoint', 'status', '-w', 'json'])
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
        while ((await etcdctl([m.clientUrl], ['endpoint', 'status'])).code !== 0) {
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
    async keys(prefix) {
      const { code, out } = await etcdctl(running().map((m) => m.clientUrl), ['get', '--prefix', '--keys-only', prefix])
      if (code !== 0) throw new Error(`etcdctl get --prefix ${prefix}: ${out}`)
      return out.split('\n').filter(Boolean)
    },
    async get(key) {
      const { code, out } = await etcdctl(running().map((m) => m.clientUrl), ['get', '--consistency=l', '--print-value-only', key])
      if (code !== 0) throw new Error(`etcdctl get ${key}: ${out}`)
      return out.trim() === '' ? undefined : out.trim()
    },
    async healthy(limitMs = 20_000) {
      const started = Date.now()
      for (;;) {
        const { code } = await etcdctl(endpoints, ['get', '--consistency=l', 'health-probe'])
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
