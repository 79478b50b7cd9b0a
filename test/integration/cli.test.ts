// The command line as an operator uses it: `signpost check` in CI, `signpost serve` start-up
// errors, SIGHUP reloads that keep the last good zone, the config file's located errors.

import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import dgram from 'node:dgram'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { inOwnFolder, spawnSignpost } from '../support/process.ts'

const run = promisify(execFile)

async function signpost(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // `check` reads the shipped zones/ by default; a server runs in a folder of its own (its state file).
    const own = args[0] === 'serve' ? inOwnFolder(args) : { cwd: process.cwd(), args: ['server/main.ts', ...args] }
    const { stdout, stderr } = await run(process.execPath, own.args, { cwd: own.cwd })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function zoneFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-cli-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const GOOD = '$TTL 60\n@ SOA ns1 host 1 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\n'

describe('signpost check', () => {
  it('passes the shipped zones/ folder', async () => {
    const r = await signpost(['check'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/ok example\.com\. serial \d+/)
  })

  it('prints every problem as file:line and exits non-zero', async () => {
    const dir = zoneFolder({ 'good.test.zone': GOOD, 'bad.test.zone': GOOD + 'x A 192.0.2.300\ny CNAME www\ny A 192.0.2.1\n' })
    const r = await signpost(['check', '--zones', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${join(dir, 'bad.test.zone')}:6: A: '192.0.2.300' is not an IPv4 address [rdata]`)
    expect(r.stdout).toContain('ok good.test.')
  })

  it('reports config errors with file, line and field', async () => {
    const dir = zoneFolder({ 'good.test.zone': GOOD, 'signpost.yaml': 'listen:\n  - 127.0.0.1:5353\n  - "localhost:99999"\nlog:\n  levle: debug\n' })
    const r = await signpost(['check', '--config', join(dir, 'signpost.yaml')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${join(dir, 'signpost.yaml')}:3: listen.1: 'localhost:99999' is not ADDRESS:PORT`)
    expect(r.stderr).toContain(`${join(dir, 'signpost.yaml')}:5: log.levle: unknown key (a typo?)`)
  })

  it('names every problem of a broken zone (the lines that do not parse and what its checks find), and does not blame its GSLB names on the config', async () => {
    const dir = zoneFolder({ 'gslb.test.zone': GOOD + 'x A 999.1.1.1\nc CNAME www\nc TXT "beside a CNAME"\n', 'signpost.yaml': 'sites:\n  a: { vips: [192.0.2.10] }\nnames:\n  www.gslb.test.: { policy: failover, order: [a] }\n' })
    const r = await signpost(['check', '--config', join(dir, 'signpost.yaml'), '--zones', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${join(dir, 'gslb.test.zone')}:6: A: '999.1.1.1' is not an IPv4 address [rdata]`)
    expect(r.stdout).toMatch(new RegExp(`${join(dir, 'gslb.test.zone').replace(/[.]/g, '\\.')}:[78]: .*CNAME`))
    expect(r.stdout).not.toContain('is in no zone being served')
  })

  it('rejects unknown flags with usage and exit code 2', async () => {
    const r = await signpost(['check', '--zonez', 'x'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/usage:/)
  })
})

/**
 * A UDP port this test holds whose TCP twin is free, so Signpost (which binds TCP first) fails on
 * UDP. Taken below Linux's ephemeral range (32768 up), where no other test's port-0 bind lands:
 * a UDP port 0 picked there had its TCP twin taken by a busy machine's other tests 4 runs in 10.
 */
async function holdUdpPort(reusePort: boolean): Promise<dgram.Socket> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000)
    const tcpFree = await new Promise<boolean>((resolve) => {
      const probe = net.createServer()
      probe.once('error', () => resolve(false))
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
    })
    if (!tcpFree) continue
    const socket = dgram.createSocket({ type: 'udp4', reusePort })
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false))
      socket.bind(port, '127.0.0.1', () => resolve(true))
    })
    if (bound) return socket
    socket.close()
  }
  throw new Error('no free port pair found below the ephemeral range')
}

describe('signpost serve', () => {
  it('fails fast with a clear message when the port is taken', async () => {
    const taken = await holdUdpPort(false)
    const port = taken.address().port
    const r = await signpost(['serve', '--zones', 'zones', '--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0'])
    taken.close()
    expect(r.code).toBe(3)
    expect(r.stdout + r.stderr).toContain(`cannot listen on udp 127.0.0.1:${port}: address already in use`)
  })

  it('refuses a port another server holds with SO_REUSEPORT (as a second Signpost would), instead of sharing it', async () => {
    const taken = await holdUdpPort(true)
    const port = taken.address().port
    const r = await signpost(['serve', '--zones', 'zones', '--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0', '--workers', '2'])
    taken.close()
    expect(r.code).toBe(3)
    expect(r.stdout + r.stderr).toContain(`cannot listen on udp 127.0.0.1:${port}: address already in use`)
  })

  it.each([
    ['--listen', '127.0.0.1', "--listen: '127.0.0.1' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"],
    ['--admin', '::1:8053', "--admin: '::1:8053' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"],
  ])('rejects %s %s as a usage error (exit 2), before anything starts', async (flag, value, message) => {
    const r = await signpost(['serve', '--zones', 'zones', flag, value])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stderr).toMatch(/usage:/)
  })

  it('rejects a --workers value that is not a whole number from 0 to 256', async () => {
    const r = await signpost(['serve', '--workers', 'many'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--workers takes a whole number from 0 to 256, not 'many'")
  })

  it('reloads on SIGHUP; a reload with a broken zone changes nothing', async () => {
    const dir = zoneFolder({ 'reload.test.zone': GOOD })
    const server = await spawnSignpost(['--zones', dir])
    try {
      expect((await dig(server.port, ['www.reload.test'])).answer).toEqual(['www.reload.test. 60 IN A 192.0.2.10'])
      const reloaded = () => new Promise<void>((resolve) => {
        const seen = server.logs.length
        const poll = setInterval(() => {
          if (server.logs.slice(seen).some((l) => l['msg'] === 'reload on SIGHUP')) {
            clearInterval(poll)
            resolve()
          }
        }, 10)
      })
      writeFileSync(join(dir, 'reload.test.zone'), GOOD.replace('192.0.2.10', '192.0.2.20').replace(' 1 3600', ' 2 3600'))
      server.child.kill('SIGHUP')
      await reloaded()
      expect((await dig(server.port, ['www.reload.test'])).answer).toEqual(['www.reload.test. 60 IN A 192.0.2.20'])

      // One zone breaks while another changes: the reload is refused whole.
      writeFileSync(join(dir, 'reload.test.zone'), GOOD.replace('192.0.2.10', 'not-an-address'))
      writeFileSync(join(dir, 'other.test.zone'), GOOD)
      server.child.kill('SIGHUP')
      await reloaded()
      expect((await dig(server.port, ['www.reload.test'])).answer).toEqual(['www.reload.test. 60 IN A 192.0.2.20'])
      expect((await dig(server.port, ['www.other.test'])).status).toBe('REFUSED')
      expect(server.logs.some((l) => l['msg'] === 'reload rejected; still serving the last good configuration and zones' && String(l['problem']).includes('reload.test.zone:5'))).toBe(true)

      // A lower serial is served, with a warning: secondaries would ignore it.
      writeFileSync(join(dir, 'reload.test.zone'), GOOD.replace('192.0.2.10', '192.0.2.30'))
      server.child.kill('SIGHUP')
      await reloaded()
      expect((await dig(server.port, ['www.reload.test'])).answer).toEqual(['www.reload.test. 60 IN A 192.0.2.30'])
      expect(server.logs.find((l) => String(l['msg']).startsWith('zone serial went backwards'))).toMatchObject({ level: 40, zone: 'reload.test.', from: 2, to: 1 })
    } finally {
      await server.stop()
    }
  })

  it('serves any folder with --zones and --listen, and reports health on the admin API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-cli-'))
    cpSync('test/fixtures/zones/basic', dir, { recursive: true })
    const server = await spawnSignpost(['--zones', dir])
    try {
      expect((await dig(server.port, ['+tcp', 'www.example.test'])).answer).toHaveLength(3)
      const health = await fetch(`http://127.0.0.1:${server.adminPort}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok', zones: 1 })
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })

  it('reads admin.state_file and audit_log against the config file, as it reads zones, and logs where they are', async () => {
    const dir = zoneFolder({ 'example.test.zone': GOOD, 'signpost.yaml': 'admin: { state_file: data/state.json, audit_log: data/audit.log }\n' })
    const server = await spawnSignpost(['--config', join(dir, 'signpost.yaml')])
    try {
      expect(server.cwd).not.toBe(dir)
      expect(server.logs.find((line) => line['msg'] === 'operator state')).toMatchObject({ stateFile: join(dir, 'data/state.json'), auditLog: join(dir, 'data/audit.log') })
      expect(existsSync(join(dir, 'data/state.json.lock'))).toBe(true)
      expect(existsSync(join(server.cwd, 'data'))).toBe(false)
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
