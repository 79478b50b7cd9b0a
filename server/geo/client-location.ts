// Where a query comes from (RFC 7871 §7.1.1): the EDNS Client Subnet when the resolver sent one
// with a non-zero prefix, else the resolver's own source address.

import ipaddr from 'ipaddr.js'
import type { ClientSubnet } from '../dns/types.ts'
import type { GeoDb, Located } from './geo-db.ts'

/** `packet` is the query the subnet came in, which holds its address bytes. */
export function locateClient(geo: GeoDb, subnet: ClientSubnet | undefined, packet: Uint8Array, sourceAddress: string): Located {
  if (!subnet || subnet.sourcePrefix === 0) return geo.locate(sourceAddress)
  // An IPv4 subnet is looked up as a number: this runs for every `nearest` query with ECS.
  if (subnet.family === 1) return geo.locateV4(((addressByte(packet, subnet, 0) << 24) | (addressByte(packet, subnet, 1) << 16) | (addressByte(packet, subnet, 2) << 8) | addressByte(packet, subnet, 3)) >>> 0)
  return geo.locate(ipaddr.fromByteArray(Array.from({ length: 16 }, (_, i) => addressByte(packet, subnet, i))).toString())
}

/** Byte `i` of the subnet's address; bytes past the prefix were not sent, and are zero. */
function addressByte(packet: Uint8Array, subnet: ClientSubnet, i: number): number {
  return i < subnet.addressLength ? (packet[subnet.addressAt + i] as number) : 0
}
