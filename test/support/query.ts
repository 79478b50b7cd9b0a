// Builds query packets with dns2's encoder (an independent implementation of the wire format),
// and reads the reply fields tests check by hand (TC, extended rcode, COOKIE).

import dgram from 'node:dgram'
import dns2 from 'dns2'
import { RRType } from '../../server/dns/types.ts'

const { Packet } = dns2

export type QueryOptions = { id?: number; edns?: { udpSize?: number; version?: number; options?: { code: number; data: Buffer }[] }; opcode?: number }

export function buildQuery(name: string, type: number, options: QueryOptions = {}): Buffer {
  const packet = new Packet()
  packet.header.id = options.id ?? 0x1234
  packet.header.rd = 1
  packet.questions.push({ name, type, class: 1 } as unknown as (typeof packet.questions)[number])
  let bytes = packet.toBuffer()
  if (options.opcode) bytes[2] = ((bytes[2] as number) & 0x87) | (options.opcode << 3)
  if (options.edns) {
    const opts = options.edns.options ?? []
    const rdata = Buffer.concat(opts.map((o) => Buffer.concat([u16(o.code), u16(o.data.length), o.data])))
    const opt = Buffer.concat([Buffer.of(0), u16(41), u16(options.edns.udpSize ?? 1232), Buffer.of(0, options.edns.version ?? 0, 0, 0), u16(rdata.length), rdata])
    bytes = Buffer.concat([bytes, opt])
    bytes.writeUInt16BE(1, 10)
  }
  return bytes
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(value)
  return b
}

/** One A query from a fresh UDP socket to 127.0.0.1:`port`: the rcode and the answer's addresses, sorted. */
export async function askA(port: number, name: string): Promise<{ readonly rcode: number; readonly addresses: string[] }> {
  const socket = dgram.createSocket('udp4')
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 2 s')), 2000)
      socket.once('message', (bytes) => {
        clearTimeout(timer)
        resolve(bytes)
      })
      socket.send(buildQuery(name, 1), port, '127.0.0.1')
    })
    const packet = dns2.Packet.parse(reply)
    return { rcode: packet.header.rcode, addresses: packet.answers.map((a) => (a as { address: string }).address).sort() }
  } finally {
    socket.close()
  }
}

export type Reply = { readonly bytes: Buffer; readonly rcode: number; readonly tc: boolean; readonly answers: number; readonly cookie: Buffer | undefined }

/** A reply's TC flag, answer count, extended rcode (with OPT's upper bits) and COOKIE option, read from its bytes. */
export function readReply(bytes: Buffer): Reply {
  let at = 12
  const skipName = (): void => {
    while (bytes[at] !== 0 && ((bytes[at] as number) & 0xc0) !== 0xc0) at += (bytes[at] as number) + 1
    at += bytes[at] === 0 ? 1 : 2
  }
  for (let i = 0; i < bytes.readUInt16BE(4); i++) (skipName(), (at += 4))
  const records = bytes.readUInt16BE(6) + bytes.readUInt16BE(8) + bytes.readUInt16BE(10)
  let rcode = (bytes[3] as number) & 0xf
  let cookie: Buffer | undefined
  for (let i = 0; i < records; i++) {
    skipName()
    const type = bytes.readUInt16BE(at)
    const length = bytes.readUInt16BE(at + 8)
    if (type === RRType.OPT) {
      rcode |= (bytes[at + 4] as number) << 4
      for (let option = at + 10; option < at + 10 + length; option += 4 + bytes.readUInt16BE(option + 2)) {
        if (bytes.readUInt16BE(option) === 10) cookie = bytes.subarray(option + 4, option + 4 + bytes.readUInt16BE(option + 2))
      }
    }
    at += 10 + length
  }
  return { bytes, rcode, tc: ((bytes[2] as number) & 0x02) !== 0, answers: bytes.readUInt16BE(6), cookie }
}
