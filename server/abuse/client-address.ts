// The client's address as bytes, read from the text Node gives for a datagram's sender, into a
// buffer the caller owns: the rate limiter's prefix and the cookie hash both need the bytes, and
// the query path makes no object for them. IPv4 (Node's dotted quad) by a character loop; IPv6
// through ipaddr.js, remembered by text for a while (a flood from one /56 repeats its addresses).

import ipaddr from 'ipaddr.js'

const IPV6_MEMO_LIMIT = 4096
const ipv6Memo = new Map<string, Uint8Array>()

/** Writes the address's bytes into `into` (16 bytes) and returns how many: 4, 16, or 0 when the text is no address. */
export function readClientAddress(text: string, into: Uint8Array): 0 | 4 | 16 {
  let part = 0
  let value = -1
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 46 /* . */) {
      if (value < 0 || part > 2) return 0
      into[part++] = value
      value = -1
    } else if (code >= 48 && code <= 57) {
      value = (value < 0 ? 0 : value * 10) + code - 48
      if (value > 255) return notIpv4(text, into)
    } else return notIpv4(text, into)
  }
  if (value < 0 || part !== 3) return 0
  into[3] = value
  return 4
}

/** Text the IPv4 loop stopped at: IPv6 if it has a colon (checked only now, so IPv4 text is read once). */
function notIpv4(text: string, into: Uint8Array): 0 | 16 {
  return text.includes(':') ? readIpv6(text, into) : 0
}

function readIpv6(text: string, into: Uint8Array): 0 | 16 {
  let bytes = ipv6Memo.get(text)
  if (!bytes) {
    if (!ipaddr.IPv6.isValid(text)) return 0
    bytes = Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray())
    // A bound, not an LRU: a flood of distinct addresses only costs the parse.
    if (ipv6Memo.size >= IPV6_MEMO_LIMIT) ipv6Memo.clear()
    ipv6Memo.set(text, bytes)
  }
  into.set(bytes)
  return 16
}
