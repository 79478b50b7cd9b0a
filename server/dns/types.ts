// Protocol numbers and the shapes that pass between decode, answer and encode.

export const RRType = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33,
  OPT: 41, DS: 43, RRSIG: 46, NSEC: 47, DNSKEY: 48, CDS: 59, CDNSKEY: 60, NXNAME: 128, TSIG: 250, IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
} as const

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, NOTAUTH: 9, BADVERS: 16, BADCOOKIE: 23 } as const

const typeNames = new Map<number, string>(Object.entries(RRType).map(([name, value]) => [value, name]))
const typeNumbers = new Map<string, number>(Object.entries(RRType).map(([name, value]) => [name, value]))

/** Mnemonic of a type number, or RFC 3597 `TYPEnnn`. */
export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`
}

/** Type number of a mnemonic or `TYPEnnn` (case-insensitive); undefined when unknown. */
export function typeFromName(text: string): number | undefined {
  const upper = text.toUpperCase()
  const known = typeNumbers.get(upper)
  if (known !== undefined) return known
  const generic = /^TYPE(\d{1,5})$/.exec(upper)
  if (!generic) return undefined
  const value = Number(generic[1])
  return value <= 0xffff ? value : undefined
}

/** EDNS Client Subnet option (RFC 7871 §6) as received. */
export type ClientSubnet = {
  readonly family: 1 | 2
  readonly sourcePrefix: number
  readonly scopePrefix: number
  /**
   * Where the address bytes as sent (ceil(sourcePrefix / 8) of them) sit in the query packet: read
   * in place, since a view made per query cost ~1% of a `nearest` answer with ECS.
   */
  readonly addressAt: number
  readonly addressLength: number
}

export type Edns = {
  readonly udpSize: number
  readonly version: number
  readonly dnssecOk: boolean
  readonly clientSubnet: ClientSubnet | undefined
  /**
   * The COOKIE option (RFC 7873 §4), read in place: where its data (the 8-byte client cookie, then
   * any server cookie) starts in the query packet, and its length (0: no COOKIE option).
   */
  readonly cookieAt: number
  readonly cookieLength: number
}

/** A decoded query. */
export type Query = {
  readonly kind: 'query'
  readonly packet: Uint8Array
  readonly id: number
  /** Header bits echoed in the reply: RD (0x0100) and CD (0x0010). */
  readonly echoFlags: number
  /** Wire length of the question name, which sits at offset 12. */
  readonly nameLength: number
  readonly qtype: number
  readonly qclass: number
  readonly edns: Edns | undefined
}

/** Who asked. A UDP datagram's own remote info fits as it is, so none is made per query. */
export type ClientInfo = {
  readonly address: string
  readonly port: number
}

export type Transport = 'udp' | 'tcp'
