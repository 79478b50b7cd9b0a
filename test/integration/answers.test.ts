// The authoritative behaviours, asked with the real `dig` over real sockets.

import { execFile } from 'node:child_process'
import dgram from 'node:dgram'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { buildQuery } from '../support/query.ts'
import { startTestServer } from '../support/server.ts'

const run = promisify(execFile)
let server: Awaited<ReturnType<typeof startTestServer>>
const q = (...args: string[]) => dig(server.port, args)

beforeAll(async () => {
  server = await startTestServer('test/fixtures/zones/basic')
})
afterAll(async () => {
  await server.close()
})

describe('authoritative answers', () => {
  it('answers a round-robin RRset with AA set', async () => {
    const r = await q('www.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.flags).toContain('aa')
    expect(r.answer).toEqual(['www.example.test. 30 IN A 192.0.2.10', 'www.example.test. 30 IN A 198.51.100.10', 'www.example.test. 30 IN A 203.0.113.10'])
  })

  it('answers NXDOMAIN with the SOA in authority at the negative TTL min(SOA TTL, minimum)', async () => {
    const r = await q('missing.example.test', 'A')
    expect(r.status).toBe('NXDOMAIN')
    expect(r.flags).toContain('aa')
    expect(r.answer).toEqual([])
    expect(r.authority).toEqual(['example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112301 3600 900 604800 300'])
  })

  it('answers NODATA (NOERROR, empty answer, SOA) for a type the name lacks', async () => {
    const r = await q('www.example.test', 'MX')
    expect(r.status).toBe('NOERROR')
    expect(r.answer).toEqual([])
    expect(r.authority[0]).toMatch(/^example\.test\. 300 IN SOA /)
  })

  it('answers NODATA, not NXDOMAIN, for an empty non-terminal', async () => {
    const r = await q('b.c.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.answer).toEqual([])
    expect(r.authority[0]).toMatch(/ SOA /)
  })

  it('follows a CNAME chain inside the zone', async () => {
    const r = await q('chain.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.answer).toEqual([
      'chain.example.test. 3600 IN CNAME alias.example.test.',
      'alias.example.test. 3600 IN CNAME www.example.test.',
      'www.example.test. 30 IN A 192.0.2.10',
      'www.example.test. 30 IN A 198.51.100.10',
      'www.example.test. 30 IN A 203.0.113.10',
    ])
  })

  it('answers NXDOMAIN with the CNAME when the chain ends at a missing name (RFC 6604)', async () => {
    const r = await q('dangling.example.test', 'A')
    expect(r.status).toBe('NXDOMAIN')
    expect(r.answer).toEqual(['dangling.example.test. 3600 IN CNAME nothing-here.example.test.'])
    expect(r.authority[0]).toMatch(/ SOA /)
  })

  it('answers a CNAME that leaves the zone without chasing it', async () => {
    const r = await q('outside.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.answer).toEqual(['outside.example.test. 3600 IN CNAME www.example.net.'])
  })

  it('synthesizes wildcard answers with the query name as owner (RFC 4592)', async () => {
    const r = await q('x.y.wild.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.flags).toContain('aa')
    expect(r.answer).toEqual(['x.y.wild.example.test. 3600 IN A 192.0.2.99'])
    const txt = await q('host.wild.example.test', 'TXT')
    expect(txt.answer).toEqual(['host.wild.example.test. 3600 IN TXT "wildcard"'])
    const nodata = await q('host.wild.example.test', 'AAAA')
    expect(nodata.status).toBe('NOERROR')
    expect(nodata.answer).toEqual([])
  })

  it('does not apply a wildcard to the name that owns it', async () => {
    const r = await q('wild.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.answer).toEqual([])
  })

  it('refers a delegated subzone: no AA, NS in authority, glue in additional', async () => {
    const r = await q('www.sub.example.test', 'A')
    expect(r.status).toBe('NOERROR')
    expect(r.flags).not.toContain('aa')
    expect(r.answer).toEqual([])
    expect(r.authority).toEqual(['sub.example.test. 3600 IN NS ns1.sub.example.test.'])
    expect(r.additional).toEqual(['ns1.sub.example.test. 3600 IN A 192.0.2.153'])
  })

  it('answers DS at a zone cut from the parent side', async () => {
    const r = await q('sub.example.test', 'DS')
    expect(r.status).toBe('NOERROR')
    expect(r.flags).toContain('aa')
    expect(r.authority[0]).toMatch(/^example\.test\. 300 IN SOA/)
  })

  it('adds in-zone addresses of MX targets to the additional section', async () => {
    const r = await q('example.test', 'MX')
    expect(r.answer).toEqual(['example.test. 3600 IN MX 10 mail.example.test.'])
    expect(r.additional).toEqual(['mail.example.test. 3600 IN A 192.0.2.25'])
  })

  it('refuses names outside its zones', async () => {
    const r = await q('www.example.org', 'A')
    expect(r.status).toBe('REFUSED')
    expect(r.flags).not.toContain('aa')
  })

  it('refuses classes other than IN', async () => {
    expect((await q('example.test', 'CH', 'TXT')).status).toBe('REFUSED')
  })

  it('answers ANY with one RRset (RFC 8482)', async () => {
    const r = await q('example.test', 'ANY')
    expect(r.status).toBe('NOERROR')
    const types = new Set(r.answer.map((line) => line.split(' ')[3]))
    expect(types.size).toBe(1)
  })

  it('preserves the case of the question name', async () => {
    const r = await q('WwW.ExAmPlE.TeSt', 'A')
    expect(r.answer[0]).toMatch(/^WwW\.ExAmPlE\.TeSt\. 30 IN A /)
    expect(r.text).toContain(';WwW.ExAmPlE.TeSt.')
  })

  it('answers FORMERR to junk with a readable header, and drops responses (QR=1)', async () => {
    const socket = dgram.createSocket('udp4')
    const replies: Buffer[] = []
    socket.on('message', (m) => replies.push(m))
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const twoQuestions = buildQuery('www.example.test', 1, { id: 0x4242 })
    twoQuestions.writeUInt16BE(2, 4)
    const response = buildQuery('www.example.test', 1, { id: 0x4343 })
    response[2] = (response[2] as number) | 0x80
    socket.send(response, server.port, '127.0.0.1')
    socket.send(twoQuestions, server.port, '127.0.0.1')
    for (let i = 0; i < 100 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 50))
    socket.close()
    expect(replies).toHaveLength(1)
    expect(replies[0]?.readUInt16BE(0)).toBe(0x4242)
    expect((replies[0]?.[3] as number) & 0xf).toBe(1)
  })

  it('answers NOTIMP to opcodes other than QUERY', async () => {
    const r = await q('+opcode=status', 'example.test')
    expect(r.status).toBe('NOTIMP')
  })

  it('answers NOTIMP to opcode 15 with every flag set with QR, the id and the opcode, and no other flag', async () => {
    // Every header flag but QR (a response is dropped): AA TC RD RA Z AD CD.
    const header = Buffer.from([0xab, 0xcd, (15 << 3) | 0x07, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0])
    const reply = await askRaw(header)
    expect(reply.readUInt16BE(0)).toBe(0xabcd)
    expect(reply.readUInt16BE(2)).toBe(0x8000 | (15 << 11) | 4)
  })
})

describe('TSIG (RFC 8945; no keys are configured, so every key is unknown)', () => {
  const KEY = 'hmac-sha256:no-such-key.:c2VjcmV0LXRoYXQtc2lnbnBvc3QtZG9lcy1ub3Qta25vdw=='

  it('answers a signed query NOTAUTH with an unsigned BADKEY TSIG, read so by dig and kdig', async () => {
    const r = await q('-y', KEY, 'www.example.test', 'A')
    expect(r.status).toBe('NOTAUTH')
    expect(r.answer).toEqual([])
    expect(r.text).toMatch(/no-such-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\.\s+\d+\s+300\s+0\s+\d+\s+BADKEY\s+0/)
    const { stdout } = await run('kdig', ['@127.0.0.1', '-p', String(server.port), '-y', KEY, 'www.example.test', 'A'], { encoding: 'utf8' }).catch((error: { stdout: string }) => error)
    // kdig shows the TSIG error as the status.
    expect(stdout).toMatch(/status: BADKEY/)
    expect(stdout).toMatch(/no-such-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/)
  })

  it('answers FORMERR when the TSIG is not the last record, or its data is malformed', async () => {
    const record = tsigRecord()
    const signed = Buffer.concat([buildQuery('www.example.test', 1, { id: 0x5151 }), record])
    signed.writeUInt16BE(1, 10)
    expect((await askRaw(signed))[3]! & 0xf).toBe(9) // well-formed: NOTAUTH
    const thenOpt = Buffer.concat([signed, Buffer.of(0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0)])
    thenOpt.writeUInt16BE(2, 10)
    expect((await askRaw(thenOpt))[3]! & 0xf).toBe(1)
    // A MAC size past the end of the record's data.
    const badMac = Buffer.from(signed)
    badMac.writeUInt16BE(200, signed.length - record.length + 3 + 10 + 13 + 8)
    expect((await askRaw(badMac))[3]! & 0xf).toBe(1)
  })
})

/** A TSIG record (key `k.`, hmac-sha256, a 32-byte MAC), as the last record of a query. */
function tsigRecord(): Buffer {
  const algorithm = Buffer.from('\x0bhmac-sha256\x00', 'latin1')
  const rdata = Buffer.concat([algorithm, Buffer.of(0, 0, 0x65, 0x00, 0x00, 0x00, 1, 44), Buffer.of(0, 32), Buffer.alloc(32, 7), Buffer.of(0x51, 0x51, 0, 0, 0, 0)])
  const head = Buffer.from('\x01k\x00', 'latin1')
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(250, 0)
  fixed.writeUInt16BE(255, 2)
  fixed.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([head, fixed, rdata])
}

/** Sends one datagram to the server and waits for its reply. */
async function askRaw(packet: Uint8Array): Promise<Buffer> {
  const socket = dgram.createSocket('udp4')
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve))
    socket.send(packet, server.port, '127.0.0.1')
    return await Promise.race([reply, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no reply')), 2000))])
  } finally {
    socket.close()
  }
}

describe('EDNS and transport', () => {
  it('echoes OPT with a UDP payload size capped at 1232', async () => {
    const r = await q('+bufsize=4096', 'www.example.test')
    expect(r.opt).toMatch(/EDNS: version: 0, flags:; udp: 1232/)
  })

  it('answers BADVERS to EDNS version 1, with OPT', async () => {
    const r = await q('+edns=1', '+noednsnegotiation', 'www.example.test')
    expect(r.status).toBe('BADVERS')
    expect(r.opt).toMatch(/version: 0/)
  })

  it('echoes the DO bit (RFC 3225)', async () => {
    const r = await q('+dnssec', 'www.example.test')
    expect(r.opt).toMatch(/flags: do;/)
  })

  it('echoes EDNS Client Subnet with scope 0 for answers that do not depend on location', async () => {
    const v4 = await q('+subnet=81.2.69.142/24', 'www.example.test')
    expect(v4.opt).toMatch(/CLIENT-SUBNET: 81\.2\.69\.0\/24\/0/)
    const v6 = await q('+subnet=2001:218::/32', 'www.example.test')
    expect(v6.opt).toMatch(/CLIENT-SUBNET: 2001:218::\/32\/0/)
  })

  it('sets TC when the answer does not fit in 512 bytes, keeps OPT, and answers in full over TCP', async () => {
    const noEdns = await q('+noedns', '+ignore', 'big.example.test', 'TXT')
    expect(noEdns.flags).toContain('tc')
    expect(noEdns.answer).toEqual([])
    const smallEdns = await q('+bufsize=512', '+ignore', 'big.example.test', 'TXT')
    expect(smallEdns.flags).toContain('tc')
    expect(smallEdns.opt).toMatch(/udp: 1232/)
    const tcp = await q('+tcp', 'big.example.test', 'TXT')
    expect(tcp.flags).not.toContain('tc')
    expect(tcp.answer).toHaveLength(3)
  })

  it('answers over TCP the same as over UDP', async () => {
    const r = await q('+tcp', 'chain.example.test', 'A')
    expect(r.answer).toHaveLength(5)
  })

  it('is read the same way by kdig', async () => {
    const { stdout: out } = await run('kdig', ['@127.0.0.1', '-p', String(server.port), '+norec', 'www.sub.example.test', 'A'])
    expect(out).toMatch(/status: NOERROR/)
    expect(out).toMatch(/sub\.example\.test\.\s+3600\s+IN\s+NS\s+ns1\.sub\.example\.test\./)
  })
})
