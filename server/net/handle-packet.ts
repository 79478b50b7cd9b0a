// One packet in, one reply (or nothing) out, synchronously from decode to encode: the snapshot is
// read once at the top, so a reload swapping it in between can't mix two versions in one reply.

import type { Logger } from 'pino'
import { answer } from '../query/answer.ts'
import { Rcode, type ClientInfo, type Transport } from '../dns/types.ts'
import { decodeQuery, type Decoded } from '../dns/wire/decode.ts'
import { encodeReject, encodeResponse, udpLimit } from '../dns/wire/encode.ts'
import type { Store } from '../query/store.ts'
import { nameToText } from '../dns/name.ts'
import type { QueryCounter } from '../metrics/query-counts.ts'

const TCP_LIMIT = 65535

/** The reply is lent (dns/wire/reply-buffer.ts): use it before handling the next packet, or keep it with `keepLentReply()`. */
export type PacketHandler = (packet: Uint8Array, client: ClientInfo, transport: Transport) => Uint8Array | undefined

export function createPacketHandler(store: Store, logger: Logger, logQueries: boolean, counter: QueryCounter | undefined): PacketHandler {
  // The rotation counter for GSLB answers; kept a small integer so it stays cheap.
  let turn = 0
  return (packet, client, transport) => {
    const snapshot = store.current
    let decoded: Decoded | undefined
    try {
      decoded = decodeQuery(packet)
      switch (decoded.kind) {
        case 'drop':
          return undefined
        case 'reject':
          counter?.countQuery(transport, decoded.rcode, 0)
          return encodeReject(packet, decoded.header, decoded.rcode, decoded.nameLength, decoded.edns, decoded.tsig)
        case 'query': {
          const query = decoded
          turn = (turn + 1) & 0x3fffffff
          const { plan, scope, tables, table } = answer(query, client, snapshot, turn)
          if (counter) {
            counter.countQuery(transport, plan.rcode, query.qtype)
            if (tables && table) counter.countGslbAnswer(tables, table, plan)
          }
          if (logQueries) logger.info({ client: client.address, transport, qname: nameToText(packet.subarray(12, 12 + query.nameLength)), qtype: query.qtype, rcode: plan.rcode }, 'query')
          return encodeResponse(query, plan, transport === 'tcp' ? TCP_LIMIT : udpLimit(query.edns), scope)
        }
      }
    } catch (error) {
      // A bug, not bad input: answer SERVFAIL and keep serving (CoreDNS `recover`).
      logger.error({ err: error, client: client.address }, 'query handling failed')
      if (decoded?.kind !== 'query') return undefined
      return encodeReject(packet, { id: decoded.id, opcode: 0, echoFlags: decoded.echoFlags }, Rcode.SERVFAIL, decoded.nameLength, decoded.edns)
    }
  }
}
