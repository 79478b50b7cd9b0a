// Which address to locate for a query (RFC 7871 §7.1.1): the EDNS Client Subnet when the resolver
// sent one with a non-zero prefix, else the resolver's own source address.

import ipaddr from 'ipaddr.js'
import type { ClientSubnet } from '../dns/types.ts'

export type LookupAddress = { readonly ip: string; readonly fromSubnet: boolean }

export function lookupAddress(subnet: ClientSubnet | undefined, sourceAddress: string): LookupAddress {
  if (!subnet || subnet.sourcePrefix === 0) return { ip: sourceAddress, fromSubnet: false }
  const a = subnet.address
  // IPv4 text built directly: this runs for every `nearest` query with ECS.
  if (subnet.family === 1) return { ip: `${a[0] ?? 0}.${a[1] ?? 0}.${a[2] ?? 0}.${a[3] ?? 0}`, fromSubnet: true }
  const bytes = new Array<number>(16).fill(0)
  a.forEach((b, i) => (bytes[i] = b))
  return { ip: ipaddr.fromByteArray(bytes).toString(), fromSubnet: true }
}
