// Online signing, checked by validators that are not ours: BIND's delv, with each zone's DNSKEY as
// its trust anchor, must call every answer "fully validated" (static names, CNAME, wildcard, MX
// with a mixed-case target, ANY, DNSKEY, a signed child's DS, GSLB answers before and after a VIP
// dies, NXDOMAIN and NODATA by compact denial, the NSEC proving an unsigned child has no DS). Keys
// come from `signpost keys new`, BIND's dnssec-keygen and ldns-keygen. Then the wire details:
// nothing changes without DO, NXDOMAIN is NOERROR with NXNAME, a reply too big for UDP is
// truncated, a key's timing metadata rolls the signatures with no reload.

import { execFile, execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from '../support/backend.ts'
import { ensureDebianPackages } from '../support/debian.ts'
import { runSignpost as signpost } from '../support/process.ts'
import { dig } from '../support/dig.ts'
import { startTestServer, type LogSink } from '../support/server.ts'
import { until } from '../support/wait.ts'

const run = promisify(execFile)
const VIPS = ['127.0.0.61', '127.0.0.62', '127.0.0.63']
const TOKEN = 'dnssec-test-token'

let dir: string
let keysDir: string
let server: Awaited<ReturnType<typeof startTestServer>>
const backends: Backend[] = []
const logs: LogSink = []

/** Every DNSKEY of the keys folder as a delv trust anchor. */
function writeTrustAnchors(): string {
  const anchors = readdirSync(keysDir).filter((f) => f.endsWith('.key')).map((f) => {
    const line = readFileSync(join(keysDir, f), 'utf8').split('\n').find((l) => /\bDNSKEY\b/.test(l) && !l.startsWith(';')) as string
    const fields = (line.split(';')[0] as string).trim().split(/\s+/)
    const at = fields.indexOf('DNSKEY')
    return `  ${fields[0]} static-key ${fields.slice(at + 1, at + 4).join(' ')} "${fields.slice(at + 4).join('')}";`
  })
  const file = join(dir, 'anchors.conf')
  writeFileSync(file, `trust-anchors {\n${anchors.join('\n')}\n};\n`)
  return file
}

/** delv's verdict on NAME TYPE, with ZONE's DNSKEY as the trust anchor. */
async function delv(zone: string, name: string, type: string): Promise<string> {
  const result = await run('delv', [`@127.0.0.1`, '-p', String(server.port), '-a', writeTrustAnchors(), `+root=${zone}`, name, type]).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }))
  return `${result.stdout}${result.stderr}`
}

beforeAll(async () => {
  ensureDebianPackages({ delv: 'bind9-dnsutils', 'dnssec-keygen': 'bind9-utils', 'ldns-keygen': 'ldnsutils' })
  dir = mkdtempSync(join(tmpdir(), 'signpost-dnssec-'))
  keysDir = join(dir, 'keys')
  mkdirSync(keysDir)
  const first = await startBackend(VIPS[0] as string)
  backends.push(first)
  for (const vip of VIPS.slice(1)) backends.push(await startBackend(vip, first.port))
  const big = Array.from({ length: 8 }, (_, i) => `big TXT "${String(i).repeat(130)}"`).join('\n')
  writeFileSync(join(dir, 'signed.test.zone'), `$ORIGIN signed.test.
$TTL 3600
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
@ MX 10 Mail.Signed.Test.
ns1 A 192.0.2.1
mail A 192.0.2.25
${VIPS.map((vip) => `www 30 A ${vip}`).join('\n')}
ftp CNAME www
*.apps A 192.0.2.80
_sip._tcp SRV 10 60 5060 ns1
${big}
child NS ns1.child
ns1.child A 192.0.2.53
secure NS ns1.secure
secure DS 12345 13 2 ${'AB'.repeat(32)}
ns1.secure A 192.0.2.54
`)
  for (const zone of ['bind.test', 'ldns.test', 'plain.test']) writeFileSync(join(dir, `${zone}.zone`), `$ORIGIN ${zone}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nhost A 192.0.2.2\n`)
  writeFileSync(join(dir, 'signpost.yaml'), `zones: .
dnssec: { keys_dir: keys }
rrl: { exempt: [127.0.0.0/8] }
checks:
  web: { type: http, port: ${first.port}, path: /, interval_ms: 300, timeout_ms: 200, fall: 2, rise: 2 }
sites:
${VIPS.map((vip, i) => `  s${i}: { vips: [${vip}], check: web }`).join('\n')}
names:
  www.signed.test.: { policy: all, max_answers: 3, ttl: 30 }
`)
  signpost(['keys', 'new', 'signed.test', '--dir', keysDir])
  execFileSync('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-K', keysDir, 'bind.test'])
  execFileSync('ldns-keygen', ['-a', 'ED25519', '-k', 'ldns.test'], { cwd: keysDir })
  // ldns-keygen leaves its .private readable by others and writes a .ds file beside it.
  for (const file of readdirSync(keysDir)) if (file.endsWith('.private')) chmodSync(join(keysDir, file), 0o600)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), logs, adminToken: TOKEN })
}, 120_000)

afterAll(async () => {
  await server?.close()
  for (const backend of backends) await backend.kill()
})

describe('validated by delv with our DNSKEY as trust anchor', () => {
  it.each([
    ['signed.test', 'signed.test', 'SOA'], ['signed.test', 'signed.test', 'DNSKEY'], ['signed.test', 'signed.test', 'NS'],
    ['signed.test', 'signed.test', 'MX'], ['signed.test', 'mail.signed.test', 'A'], ['signed.test', 'ftp.signed.test', 'A'],
    ['signed.test', 'x.apps.signed.test', 'A'], ['signed.test', 'deep.x.apps.signed.test', 'A'], ['signed.test', '_sip._tcp.signed.test', 'SRV'],
    ['signed.test', 'signed.test', 'ANY'], ['signed.test', 'secure.signed.test', 'DS'], ['signed.test', 'big.signed.test', 'TXT'],
    ['bind.test', 'host.bind.test', 'A'], ['ldns.test', 'host.ldns.test', 'A'], ['ldns.test', 'ldns.test', 'DNSKEY'],
    ['signed.test', 'mail.signed.test', 'NSEC'],
  ])('%s: %s %s is fully validated', async (zone, name, type) => {
    const verdict = await delv(zone, name, type)
    expect(verdict).toContain('; fully validated')
  })

  it.each([
    ['signed.test', 'nothing.signed.test', 'A'], ['signed.test', 'mail.signed.test', 'AAAA'], ['signed.test', 'www.signed.test', 'AAAA'],
    ['signed.test', 'x.apps.signed.test', 'TXT'], ['signed.test', 'apps.signed.test', 'A'], ['signed.test', 'child.signed.test', 'DS'],
    ['signed.test', 'a.b.c.nothing.signed.test', 'MX'], ['bind.test', 'nothing.bind.test', 'A'], ['ldns.test', 'host.ldns.test', 'AAAA'],
  ])('%s: %s %s is a validated denial', async (zone, name, type) => {
    expect(await delv(zone, name, type)).toContain('; negative response, fully validated')
  })

  it('a GSLB name validates with all VIPs, and again once a VIP died and left the answer', async () => {
    const addresses = (text: string): string[] => text.split('\n').filter((l) => /\sIN\s+A\s/.test(l) && !l.startsWith(';')).map((l) => l.trim().split(/\s+/)[4] as string).sort()
    const before = await delv('signed.test', 'www.signed.test', 'A')
    expect(before).toContain('; fully validated')
    expect(addresses(before)).toEqual(VIPS)
    await (backends[1] as Backend).kill()
    await until(async () => !(await dig(server.port, ['www.signed.test', 'A'])).answer.some((r) => r.endsWith(VIPS[1] as string)), 5000, 'the dead VIP leaves the answer')
    const after = await delv('signed.test', 'www.signed.test', 'A')
    expect(after).toContain('; fully validated')
    expect(addresses(after)).toEqual([VIPS[0], VIPS[2]])
    await (backends[1] as Backend).restart()
  })

  it('plain.test has no key: served unsigned, no RRSIG even with DO', async () => {
    const reply = await dig(server.port, ['+dnssec', 'host.plain.test', 'A'])
    expect(reply.answer).toEqual(['host.plain.test. 3600 IN A 192.0.2.2'])
  })
})

describe('ldns-verify-zone on an export of what we serve', () => {
  /** Every RRset of signed.test's zone file (and the DNSKEY), as dig gets it with its RRSIG; the delegations' NS and glue unsigned. */
  async function exportZone(): Promise<string> {
    const rrsets = [['signed.test', 'SOA'], ['signed.test', 'NS'], ['signed.test', 'MX'], ['signed.test', 'DNSKEY'], ['ns1.signed.test', 'A'], ['mail.signed.test', 'A'], ['www.signed.test', 'A'], ['ftp.signed.test', 'CNAME'], ['*.apps.signed.test', 'A'], ['_sip._tcp.signed.test', 'SRV'], ['big.signed.test', 'TXT'], ['secure.signed.test', 'DS']]
    const lines: string[] = []
    for (const [name, type] of rrsets) lines.push(...(await dig(server.port, ['+dnssec', '+tcp', name as string, type as string])).answer)
    lines.push('child.signed.test. 3600 IN NS ns1.child.signed.test.', 'ns1.child.signed.test. 3600 IN A 192.0.2.53', 'secure.signed.test. 3600 IN NS ns1.secure.signed.test.', 'ns1.secure.signed.test. 3600 IN A 192.0.2.54')
    return lines.join('\n') + '\n'
  }
  function verifyZone(text: string): string {
    const file = join(dir, 'export.txt')
    writeFileSync(file, text)
    const anchor = join(dir, 'signed.key')
    const keyFile = readdirSync(keysDir).find((f) => f.startsWith('Ksigned.test.') && f.endsWith('.key')) as string
    writeFileSync(anchor, readFileSync(join(keysDir, keyFile), 'utf8').split('\n').filter((l) => !l.startsWith(';')).join('\n'))
    try {
      return execFileSync('ldns-verify-zone', ['-e', 'P7D', '-k', anchor, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (error) {
      const e = error as { stdout: string; stderr: string }
      return e.stdout + e.stderr
    }
  }

  it('every signature verifies and none expires within 7 days; the only complaints are the NSEC chain that compact denial has none of', async () => {
    const text = await exportZone()
    expect(text.match(/ RRSIG /g)?.length).toBe(12)
    const complaints = verifyZone(text).split('\n').filter((l) => l.startsWith('Error'))
    expect(complaints.length).toBeGreaterThan(0)
    expect(complaints.filter((l) => !/^Error: there is no NSEC\(3\) for /.test(l))).toEqual([])
    // The same check sees data that no longer matches its signature: it would see a signature we made wrong.
    const broken = text.replace('mail.signed.test. 3600 IN A 192.0.2.25', 'mail.signed.test. 3600 IN A 192.0.2.26')
    expect(broken).not.toBe(text)
    expect(verifyZone(broken)).toContain('Bogus DNSSEC signature for mail.signed.test.')
  })
})

describe('on the wire', () => {
  it('without DO nothing is signed; DNSKEY is still answered', async () => {
    const reply = await dig(server.port, ['www.signed.test', 'A'])
    expect(reply.answer.some((r) => r.includes('RRSIG'))).toBe(false)
    const keys = await dig(server.port, ['signed.test', 'DNSKEY'])
    expect(keys.answer).toHaveLength(1)
    expect(keys.answer[0]).toContain('DNSKEY 257 3 13')
  })

  it('NXDOMAIN is NOERROR with one NSEC at the name: next name \\000.<name>, bitmap RRSIG NSEC NXNAME (RFC 9824)', async () => {
    const reply = await dig(server.port, ['+dnssec', 'nothing.signed.test', 'A'])
    expect(reply.status).toBe('NOERROR')
    expect(reply.answer).toEqual([])
    const nsec = reply.authority.filter((r) => r.split(' ')[3] === 'NSEC')
    expect(nsec).toEqual(['nothing.signed.test. 300 IN NSEC \\000.nothing.signed.test. RRSIG NSEC TYPE128'])
    // NODATA: the types that exist at the name.
    const nodata = await dig(server.port, ['+dnssec', 'mail.signed.test', 'TXT'])
    expect(nodata.authority.filter((r) => r.split(' ')[3] === 'NSEC')).toEqual(['mail.signed.test. 300 IN NSEC \\000.mail.signed.test. A RRSIG NSEC'])
    // A referral to an unsigned child proves it has no DS.
    const referral = await dig(server.port, ['+dnssec', 'host.child.signed.test', 'A'])
    expect(referral.authority.filter((r) => r.split(' ')[3] === 'NSEC')).toEqual(['child.signed.test. 300 IN NSEC \\000.child.signed.test. NS RRSIG NSEC'])
    const secure = await dig(server.port, ['+dnssec', 'host.secure.signed.test', 'A'])
    expect(secure.authority.map((r) => r.split(' ')[3])).toEqual(['NS', 'DS', 'RRSIG'])
  })

  it('a signed reply too big for the client\'s UDP size is truncated, whole over TCP', async () => {
    expect((await dig(server.port, ['+bufsize=1232', 'big.signed.test', 'TXT'])).answer).toHaveLength(8)
    const udp = await dig(server.port, ['+dnssec', '+bufsize=1232', '+ignore', 'big.signed.test', 'TXT'])
    expect(udp.flags).toContain('tc')
    expect(udp.answer).toEqual([])
    const tcp = await dig(server.port, ['+dnssec', '+tcp', 'big.signed.test', 'TXT'])
    expect(tcp.answer.filter((r) => r.includes(' RRSIG '))).toHaveLength(1)
    expect(tcp.answer).toHaveLength(9)
  })

  it('metrics count the signatures made at query time, not again for a repeat; the static ones per zone; no key material', async () => {
    const metrics = async (): Promise<string> => (await fetch(`http://${server.adminAddress}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
    const made = async (): Promise<number> => Number(/^signpost_dnssec_query_signatures_total (\d+)/m.exec(await metrics())?.[1])
    const before = await made()
    await dig(server.port, ['+dnssec', 'fresh-name.signed.test', 'A'])
    expect(await made()).toBe(before + 1)
    await dig(server.port, ['+dnssec', 'fresh-name.signed.test', 'A'])
    expect(await made()).toBe(before + 1)
    const text = await metrics()
    expect(text).toMatch(/^signpost_dnssec_static_signatures\{zone="signed\.test\."\} \d+/m)
    expect(text).toMatch(/^signpost_dnssec_signature_cache_entries [1-9]/m)
    expect(text).not.toMatch(/PrivateKey|BEGIN/)
  })

  it('a query for NXNAME is FORMERR (RFC 9824 §3.5)', async () => {
    expect((await dig(server.port, ['+dnssec', 'signed.test', 'TYPE128'])).status).toBe('FORMERR')
  })
})

describe('keys', () => {
  it('signpost ds prints the DS that dnssec-dsfromkey makes of the same key', () => {
    const ours = signpost(['ds', 'signed.test', '--dir', keysDir]).trim().split(' ; ')[0]
    const keyFile = readdirSync(keysDir).find((f) => f.startsWith('Ksigned.test.') && f.endsWith('.key')) as string
    const bind = execFileSync('dnssec-dsfromkey', ['-2', join(keysDir, keyFile)], { encoding: 'utf8' }).trim()
    expect(ours?.split(/\s+/).join(' ')).toBe(bind.split(/\s+/).join(' '))
  })

  it('timing metadata rolls the signing keys with no reload: a key activated in 2 s starts signing, one made inactive stops', async () => {
    const tagOf = (base: string): number => Number(/\+(\d{5})$/.exec(base.trim())?.[1])
    const rrsigTags = async (): Promise<number[]> => (await dig(server.port, ['+dnssec', 'host.bind.test', 'A'])).answer.filter((r) => r.includes(' RRSIG ')).map((r) => Number(r.split(' ')[10])).sort()
    const old = await rrsigTags()
    expect(old).toHaveLength(1)
    const next = tagOf(signpost(['keys', 'new', 'bind.test', '--dir', keysDir, '--algorithm', 'ed25519', '--activate', '+2s']))
    const oldFile = readdirSync(keysDir).find((f) => f.startsWith('Kbind.test.') && f.endsWith('.key') && f.includes(String(old[0]).padStart(5, '0'))) as string
    execFileSync('dnssec-settime', ['-I', '+4', '-K', keysDir, oldFile.replace(/\.key$/, '')])
    const reload = await server.control.reload()
    expect(reload.ok).toBe(true)
    // Published, not yet signing: the DNSKEY RRset has both keys, the signatures are the old key's.
    expect((await dig(server.port, ['bind.test', 'DNSKEY'])).answer).toHaveLength(2)
    expect(await rrsigTags()).toEqual(old)
    await until(async () => (await rrsigTags()).length === 2, 5000, 'the new key signs too')
    await until(async () => JSON.stringify(await rrsigTags()) === JSON.stringify([next]), 5000, 'only the new key signs')
    expect(await delv('bind.test', 'host.bind.test', 'A')).toContain('; fully validated')
    expect(logs.some((l) => l.msg === 'zones signed again')).toBe(true)
  })

  it('check names a broken key file by file and line, and warns of a private file others can read', () => {
    const broken = mkdtempSync(join(tmpdir(), 'signpost-badkey-'))
    writeFileSync(join(broken, 'x.test.zone'), '$ORIGIN x.test.\n@ 3600 SOA ns1 h 1 2 3 4 5\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n')
    writeFileSync(join(broken, 'signpost.yaml'), 'dnssec: { keys_dir: keys }\n')
    mkdirSync(join(broken, 'keys'))
    signpost(['keys', 'new', 'x.test', '--dir', join(broken, 'keys')])
    const ok = signpost(['check', '--config', join(broken, 'signpost.yaml')])
    expect(ok).toMatch(/ok x\.test\. serial 1 .* signed by \d+ \(13, active\)/)
    const privateFile = readdirSync(join(broken, 'keys')).find((f) => f.endsWith('.private')) as string
    chmodSync(join(broken, 'keys', privateFile), 0o644)
    expect(signpost(['check', '--config', join(broken, 'signpost.yaml')])).toContain('readable by its group or others')
    writeFileSync(join(broken, 'keys', privateFile), readFileSync(join(broken, 'keys', privateFile), 'utf8').replace(/PrivateKey: .*/, 'PrivateKey: AAAA'))
    let output = ''
    try {
      signpost(['check', '--config', join(broken, 'signpost.yaml')])
    } catch (error) {
      output = (error as { stdout: string }).stdout
    }
    expect(output).toMatch(new RegExp(`${privateFile.replace(/[.+]/g, '\\$&')}:3: expected a PrivateKey of 32 bytes`))
    expect(output).not.toContain('AAAA')
  })
})
