// DNS Cookies interoperate (RFC 9018): BIND's named and Signpost share a cookie secret, and each
// accepts the server cookie the other made for the same client. named runs with
// `require-server-cookie yes`, so it answers BADCOOKIE to anything but a cookie it accepts.

import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RRType } from '../../server/dns/types.ts'
import { buildQuery, readReply } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'
import { until } from '../support/wait.ts'
import { freePort } from '../support/ports.ts'

const SECRET = '8b4f3a2e1d0c9b8a7f6e5d4c3b2a1908'
const TOKEN = 'cookies-test-token'
const CLIENT_COOKIE = Buffer.from('f00dfacecafebeef', 'hex')
const ZONE = `$ORIGIN cookies.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n  NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\n`

let named: ChildProcess | undefined
let namedPort = 0
let signpost: Awaited<ReturnType<typeof startTestServer>>

/** One query from 127.0.0.1 with a COOKIE option; the reply's rcode (extended) and COOKIE option. */
async function ask(port: number, cookie: Buffer): Promise<{ rcode: number; cookie: Buffer | undefined }> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 2 s')), 2000)
      socket.once('message', (bytes) => (clearTimeout(timer), resolve(bytes)))
      socket.send(buildQuery('www.cookies.test', RRType.A, { edns: { options: [{ code: 10, data: cookie }] } }), port, '127.0.0.1')
    })
    const { rcode, cookie: found } = readReply(reply)
    return { rcode, cookie: found }
  } finally {
    socket.close()
  }
}

async function validCookies(): Promise<number> {
  const text = await (await fetch(`http://${signpost.adminAddress}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  return Number(/^signpost_dns_cookies_total\{check="valid"\} (\d+)$/m.exec(text)?.[1] ?? 0)
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-cookies-'))
  writeFileSync(join(dir, 'cookies.test.zone'), ZONE)
  writeFileSync(join(dir, 'signpost.yaml'), `cookies: { secret: ${SECRET} }\n`)
  signpost = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), adminToken: TOKEN })
  namedPort = await freePort()
  writeFileSync(join(dir, 'named.conf'), `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${namedPort} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  cookie-algorithm siphash24;
  cookie-secret "${SECRET}";
  require-server-cookie yes;
};
controls { };
zone "cookies.test" { type primary; file "${dir}/cookies.test.zone"; };
`)
  named = spawn('named', ['-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  named.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
  await until(async () => (await ask(namedPort, CLIENT_COOKIE)).cookie !== undefined, 15_000, `named answering (${stderr.slice(-300)})`, 100)
})
afterAll(async () => {
  // Ours, by PID; gone before the next file starts.
  if (named && named.exitCode === null) {
    const exited = new Promise((resolve) => named?.once('exit', resolve))
    named.kill()
    await exited
  }
  await signpost?.close()
})

describe('DNS Cookies with BIND (RFC 9018, one shared secret)', () => {
  it("Signpost accepts the server cookie BIND made, and makes the same one BIND does", async () => {
    // named requires a server cookie: a client cookie alone is BADCOOKIE, with named's cookie.
    const fromNamed = await ask(namedPort, CLIENT_COOKIE)
    expect(fromNamed.rcode).toBe(23)
    expect(fromNamed.cookie).toHaveLength(24)
    const before = await validCookies()
    const atSignpost = await ask(signpost.port, fromNamed.cookie as Buffer)
    expect(atSignpost.rcode).toBe(0)
    expect(await validCookies()).toBe(before + 1)
    // Less than half an hour old: Signpost sends the same cookie back.
    expect(atSignpost.cookie).toEqual(fromNamed.cookie)
  })

  it('BIND accepts the server cookie Signpost made', async () => {
    const fromSignpost = await ask(signpost.port, CLIENT_COOKIE)
    expect(fromSignpost.rcode).toBe(0)
    expect(fromSignpost.cookie).toHaveLength(24)
    expect((await ask(namedPort, fromSignpost.cookie as Buffer)).rcode).toBe(0)
    // And a cookie made with another secret is not accepted.
    const forged = Buffer.from(fromSignpost.cookie as Buffer)
    forged[23] = (forged[23] as number) ^ 0xff
    expect((await ask(namedPort, forged)).rcode).toBe(23)
  })
})
