// Builds query packets with dns2's encoder (an independent implementation of the wire format).

import dgram from 'node:dgram'
import dns2 from 'dns2'

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
