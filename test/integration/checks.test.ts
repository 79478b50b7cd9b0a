// The L3 and custom checks on real parts: ICMP echo through one fping process (a loopback VIP
// answers it), and an operator's script run per probe (exit 0 up, else down with its output in the
// reason, a hung one killed at the timeout). The lab takes a site out by ICMP when its link goes down.

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDebianPackages } from '../support/debian.ts'
import { askA } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const PINGED = '127.0.0.1'
const SCRIPTED = '192.0.2.30'
const OTHER = '198.51.100.30'

let server: Awaited<ReturnType<typeof startTestServer>>
let dir: string
const mode = (what: 'up' | 'down' | 'hang'): void => writeFileSync(join(dir, 'mode'), what)
type ServerStatus = { address: string; health: string; lastProbe: { ok: boolean; reason?: string; detail?: string; ms: number } | null }
const serverStatus = async (address: string): Promise<ServerStatus> => ((await (await fetch(`http://${server.adminAddress}/v1/status`)).json()) as { servers: ServerStatus[] }).servers.find((s) => s.address === address)!
const answers = async (): Promise<string[]> => (await askA(server.port, 'www.c.test')).addresses

beforeAll(async () => {
  ensureDebianPackages({ fping: 'fping' })
  dir = mkdtempSync(join(tmpdir(), 'signpost-checks-'))
  const script = join(dir, 'check.sh')
  // Up, down with a word on stderr, or hung: as the mode file says. The address is its argument.
  writeFileSync(script, `#!/bin/sh\ncase "$(cat ${join(dir, 'mode')})" in\n  up) exit 0 ;;\n  hang) sleep 30 ;;\n  *) echo "backend $1 says no" >&2; exit 2 ;;\nesac\n`)
  chmodSync(script, 0o755)
  mode('up')
  writeFileSync(join(dir, 'c.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww 5 A ${PINGED}\nwww 5 A ${SCRIPTED}\nwww 5 A ${OTHER}\n`)
  // The test polls answers from loopback many times a second: exempt from rate limiting.
  writeFileSync(join(dir, 'signpost.yaml'), `rrl: { exempt: [127.0.0.0/8] }
checks:
  ping: { type: icmp, interval_ms: 200, timeout_ms: 300, rise: 1, fall: 1 }
  script: { type: exec, command: [${script}, "{address}"], interval_ms: 200, timeout_ms: 500, rise: 1, fall: 1 }
sites:
  pinged: { vips: [${PINGED}], check: ping }
  scripted: { vips: [${SCRIPTED}], check: script }
  other: { vips: [${OTHER}] }
names:
  www.c.test.: { policy: all }
`)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), adminToken: 't' })
}, 30_000)

afterAll(() => server?.close())

describe('icmp and exec checks', () => {
  it('icmp: the loopback VIP answers fping\'s echo requests and is up, with a round trip', async () => {
    const status = await serverStatus(PINGED)
    expect(status.health).toBe('up')
    expect(status.lastProbe?.ok).toBe(true)
    expect(await answers()).toContain(PINGED)
  })

  it('exec: exit 0 is up; a non-zero exit is down with what the script said; back up when it exits 0 again', async () => {
    expect((await serverStatus(SCRIPTED)).health).toBe('up')
    mode('down')
    await until(async () => !(await answers()).includes(SCRIPTED), 5000, 'scripted site out')
    expect((await serverStatus(SCRIPTED)).lastProbe).toMatchObject({ ok: false, reason: 'error', detail: `${join(dir, 'check.sh')} exited 2: backend ${SCRIPTED} says no` })
    mode('up')
    await until(async () => (await answers()).includes(SCRIPTED), 5000, 'scripted site back')
  })

  it('exec: a script that hangs is killed at the timeout and counts as down', async () => {
    mode('hang')
    await until(async () => !(await answers()).includes(SCRIPTED), 5000, 'hung script: site out')
    expect((await serverStatus(SCRIPTED)).lastProbe).toMatchObject({ ok: false, reason: 'timeout' })
    expect((await serverStatus(SCRIPTED)).lastProbe!.ms).toBeLessThan(1500)
    mode('up')
    await until(async () => (await answers()).includes(SCRIPTED), 5000, 'scripted site back')
  })
})
