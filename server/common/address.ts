// IP addresses as operators write them: listen addresses (`127.0.0.1:5353`, `[::1]:53`) and VIPs
// in their one canonical text form, so config, GSLB tables and admin targets compare alike.

import ipaddr from 'ipaddr.js'
import { isIP } from 'node:net'

export type ListenAddress = { readonly host: string; readonly port: number; readonly family: 4 | 6 }

export type AddressResult = { readonly ok: true; readonly address: ListenAddress } | { readonly ok: false; readonly message: string }

export function parseListenAddress(text: string): AddressResult {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (!match || host === undefined) return { ok: false, message: `'${text}' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)` }
  const family = isIP(host)
  if (family === 0 || (family === 6) !== (match[1] !== undefined)) return { ok: false, message: `'${host}' in '${text}' is not an IP address${family === 6 ? ' (write IPv6 as [ADDRESS]:PORT)' : ''}` }
  if (port > 65535) return { ok: false, message: `port ${port} in '${text}' is not from 0 to 65535` }
  return { ok: true, address: { host, port, family: family as 4 | 6 } }
}

export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

/** An IP address in its one canonical text form (`2001:DB8::0:1` → `2001:db8::1`); other text as it is. */
export function canonicalAddress(text: string): string {
  return ipaddr.isValid(text) ? ipaddr.parse(text).toString() : text
}

export type ServerAddressResult = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly message: string }

/**
 * A server address as an operator names one (admin targets, the state file): IPv4 as four
 * decimal numbers without leading zeros, or IPv6 in any RFC 4291 form, given back in its
 * canonical text (RFC 5952). No octal, hex or single-number forms: `127.0.1.010` is not 127.0.1.8.
 */
export function parseServerAddress(text: string): ServerAddressResult {
  // Node's isIP reads IPv4 strictly (no leading zeros, octal, hex or single numbers) and IPv6 in its RFC 4291 forms.
  const family = isIP(text)
  if (family === 4) return { ok: true, address: text }
  if (family === 6 && !text.includes('%')) return { ok: true, address: ipaddr.parse(text).toString() }
  return { ok: false, message: `'${text}' is not an IP address (IPv4 as four decimal numbers from 0 to 255 without leading zeros, or IPv6)` }
}

/** A network as operators write one (`192.0.2.0/24`, `2001:db8::/32`, or a bare address): its bytes and prefix length. */
export type Network = { readonly family: 4 | 6; readonly bytes: Uint8Array; readonly bits: number }

export function parseNetwork(text: string): Network | undefined {
  const [address = '', bits, ...rest] = text.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0 || address.includes('%')) return undefined
  const max = family === 4 ? 32 : 128
  const length = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1
  if (length < 0 || length > max) return undefined
  return { family: family as 4 | 6, bytes: Uint8Array.from(ipaddr.parse(address).toByteArray()), bits: length }
}
