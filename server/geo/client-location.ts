// Where a query comes from (RFC 7871 §7.1.1): the EDNS Client Subnet when the resolver sent one
// with a non-zero prefix, else the resolver's own source address.

import ipaddr from 'ipaddr.js'
import type { ClientSubnet } from '../dns/types.ts'
import type { GeoDb, Located } from './geo-db.ts'

export function locateClient(geo: GeoDb, subnet: ClientSubnet | undefined, sourceAddress: string): Located {
  if (!subnet || subnet.sourcePrefix === 0) return geo.locate(sourceAddress)
  const a = subnet.address
  // An IPv4 subnet is looked up as a number: this runs for every `nearest` query with ECS.
  if (subnet.family === 1) return geo.locateV4((((a[0] ?? 0) << 24) | ((a[1] ?? 0) << 16) | ((a[2] ?? 0) << 8) | (a[3] ?? 0)) >>> 0)
  const bytes = new Array<number>(16).fill(0)
  a.forEach((b, i) => (bytes[i] = b))
  return geo.locate(ipaddr.fromByteArray(bytes).toString())
}
