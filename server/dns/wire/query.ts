// A query packet, for asking the answer path a question that did not come from the network (the
// admin API's explain): what a resolver would send, with EDNS and an optional client subnet.

const HEADER = 12
const OPTION_ECS = 8

/** `subnet`: RFC 7871's family (1 IPv4, 2 IPv6), source prefix and the address's bytes (all of them). */
export function encodeQuery(name: Uint8Array, qtype: number, subnet?: { readonly family: 1 | 2; readonly sourcePrefix: number; readonly address: Uint8Array }): Uint8Array {
  const addressLength = subnet ? Math.ceil(subnet.sourcePrefix / 8) : 0
  const optionLength = subnet ? 4 + 4 + addressLength : 0
  const out = new Uint8Array(HEADER + name.length + 4 + 11 + optionLength)
  const view = new DataView(out.buffer)
  view.setUint16(0, 0x5350)
  view.setUint16(4, 1) // one question
  view.setUint16(10, 1) // OPT
  out.set(name, HEADER)
  let pos = HEADER + name.length
  view.setUint16(pos, qtype)
  view.setUint16(pos + 2, 1) // IN
  pos += 4
  out[pos] = 0 // root owner
  view.setUint16(pos + 1, 41)
  view.setUint16(pos + 3, 1232)
  view.setUint16(pos + 9, optionLength)
  pos += 11
  if (subnet) {
    view.setUint16(pos, OPTION_ECS)
    view.setUint16(pos + 2, 4 + addressLength)
    view.setUint16(pos + 4, subnet.family)
    out[pos + 6] = subnet.sourcePrefix
    out[pos + 7] = 0
    // RFC 7871 §6: bits past the source prefix are zero.
    for (let i = 0; i < addressLength; i++) {
      const keep = Math.min(8, subnet.sourcePrefix - i * 8)
      out[pos + 8 + i] = (subnet.address[i] as number) & (0xff << (8 - keep))
    }
  }
  return out
}
