// A fleet on an etcd that deployments lock down: client certificates over TLS (openssl-made CA),
// and etcd's own users and roles with the password from the environment. Real etcd, one member
// each; instances as their own processes.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeEtcdCertificates, startEtcdCluster, type EtcdCluster } from '../support/etcd.ts'
import { A_VIP, admin, askA, fleetFixture, startInstance } from '../support/fleet.ts'
import { spawnSignpost, type ServerProcess } from '../support/process.ts'
import { until } from '../support/wait.ts'

let etcd: EtcdCluster | undefined
const started: ServerProcess[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()))
  await etcd?.close()
  etcd = undefined
})

/** The fixture's config for `instance`, with `extra` lines added under cluster.etcd. */
function configWith(endpoints: readonly string[], instance: string, prefix: string, extra: string): string {
  const file = fleetFixture(endpoints).config(instance, { prefix })
  return rewrite(file, (text) => text.replace(`    prefix: ${prefix}\n`, `    prefix: ${prefix}\n${extra}`))
}

function rewrite(file: string, change: (text: string) => string): string {
  writeFileSync(file, change(readFileSync(file, 'utf8')))
  return file
}

const connected = async (s: ServerProcess): Promise<boolean> => ((await admin(s, 'GET', '/v1/status')).body['fleet'] as { connected: boolean }).connected

describe('fleet: etcd with TLS and auth', () => {
  it('TLS with client certificates: the instance connects with cluster.etcd.tls and shares writes', async () => {
    const certs = makeEtcdCertificates(mkdtempSync(join(tmpdir(), 'signpost-certs-')))
    etcd = await startEtcdCluster(1, { tls: certs })
    const tls = `    tls: { ca: ${certs.ca}, cert: ${certs.clientCert}, key: ${certs.clientKey} }\n`
    const ns1 = await startInstance(configWith(etcd.endpoints, 'ns1', '/t/tls', tls))
    started.push(ns1)
    await until(() => connected(ns1), 10_000, 'connected over TLS')
    expect((await admin(ns1, 'PUT', '/v1/sites/b/state', { state: 'disabled', reason: 'over tls' })).status).toBe(200)
    expect(await askA(ns1.port, 'www.fleet.test')).toEqual([A_VIP])
    expect(JSON.parse((await etcd.get('/t/tls/admin/sites/b'))!)).toMatchObject({ state: 'disabled', reason: 'over tls', instance: 'ns1' })

    // Without a client certificate, etcd refuses the handshake: the instance starts on its cache and says it is cut off.
    const bare = await startInstance(configWith(etcd.endpoints, 'ns2', '/t/tls', `    tls: { ca: ${certs.ca} }\n`))
    started.push(bare)
    expect(await connected(bare)).toBe(false)
    expect((await admin(bare, 'PUT', '/v1/sites/b/state', { state: 'enabled', reason: 'no cert' })).status).toBe(503)
  })

  it('username and password: a user whose role covers the prefix writes; the wrong password is refused and said so', async () => {
    etcd = await startEtcdCluster(1)
    await etcd.ctl(['user', 'add', 'root', '--new-user-password', 'root-pass'])
    await etcd.ctl(['user', 'add', 'signpost', '--new-user-password', 'fleet-pass'])
    await etcd.ctl(['role', 'add', 'signpost'])
    await etcd.ctl(['role', 'grant-permission', 'signpost', '--prefix=true', 'readwrite', '/t/auth/'])
    await etcd.ctl(['user', 'grant-role', 'signpost', 'signpost'])
    await etcd.ctl(['auth', 'enable'])
    etcd.setUser('root:root-pass')

    const config = configWith(etcd.endpoints, 'ns1', '/t/auth', '    username: signpost\n    password_env: FLEET_TEST_PASSWORD\n')
    process.env['FLEET_TEST_PASSWORD'] = 'fleet-pass'
    const ns1 = await startInstance(config).finally(() => delete process.env['FLEET_TEST_PASSWORD'])
    started.push(ns1)
    await until(() => connected(ns1), 10_000, 'connected with a password')
    expect((await admin(ns1, 'PUT', '/v1/sites/b/state', { state: 'drain', reason: 'with a password' })).status).toBe(200)
    expect(JSON.parse((await etcd.get('/t/auth/admin/sites/b'))!)).toMatchObject({ state: 'drain' })

    process.env['FLEET_TEST_PASSWORD'] = 'wrong'
    const wrong = await startInstance(configWith(etcd.endpoints, 'ns2', '/t/auth', '    username: signpost\n    password_env: FLEET_TEST_PASSWORD\n')).finally(() => delete process.env['FLEET_TEST_PASSWORD'])
    started.push(wrong)
    const refused = await admin(wrong, 'PUT', '/v1/sites/b/state', { state: 'enabled', reason: 'wrong password' })
    expect(refused.status).toBe(503)
    expect(refused.body['error']).toMatch(/^etcd: refused \(.*authentication failed/)
  })

  it('an instance name that is no etcd key segment is refused at start, as the config refuses it', async () => {
    const config = fleetFixture(['http://127.0.0.1:9']).config('ns1', { prefix: '/t/name' })
    await expect(spawnSignpost(['--config', config, '--instance', 'ns1/evil'])).rejects.toThrow(/exited with 3: .*instance name 'ns1\/evil' must be letters, digits/)
  })
})

