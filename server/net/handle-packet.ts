// One packet in, one reply (or nothing) out, synchronously from decode to encode: the snapshot is
// read once at the top, so a reload swapping it in between can't mix two versions in one reply.
// Abuse defence sits around the answer: a COOKIE option is checked first (a valid server cookie
// proves the source address), and a UDP response without one passes the rate limiter before it
// is encoded.

import { randomInt } from 'node:crypto'
import type { Logger } from 'pino'
import { readClientAddress } from '../abuse/client-address.ts'
import { checkCookie, CookieCheck } from '../abuse/cookies.ts'
import { createLimiter, DROP, SEND } from '../abuse/limiter.ts'
import { ResponseClass, responseClass } from '../abuse/response-class.ts'
import { answer } from '../query/answer.ts'
import { signAnswer } from '../query/sign-answer.ts'
import { createSignatureCache, type SignatureCache } from '../dnssec/signature-cache.ts'
import { Rcode, type ClientInfo, type Transport } from '../dns/types.ts'
import { decodeQuery, type Decoded } from '../dns/wire/decode.ts'
import { encodeReject, encodeResponse, encodeTruncated, udpLimit } from '../dns/wire/encode.ts'
import type { Store } from '../query/store.ts'
import { nameToText } from '../dns/name.ts'
import { RESPONSE_TIME_SAMPLE, type QueryCounter } from '../metrics/query-counts.ts'

const TCP_LIMIT = 65535

/** The reply is lent (dns/wire/reply-buffer.ts): use it before handling the next packet, or keep it with `keepLentReply()`. */
export type PacketHandler = (packet: Uint8Array, client: ClientInfo, transport: Transport) => Uint8Array | undefined

/** `shares`: the threads answering on the same sockets (the rate limiter's share of the rate is 1/shares). */
export function createPacketHandler(store: Store, logger: Logger, logQueries: boolean, counter: QueryCounter | undefined, shares = 1): PacketHandler {
  const limiter = createLimiter(logger, shares, () => randomInt(2 ** 32))
  // The rotation counter for GSLB answers; kept a small integer so it stays cheap.
  let turn = 0
  // This thread's scratch: the client's address bytes and the server cookie being sent.
  const address = new Uint8Array(16)
  const serverCookie = new Uint8Array(16)
  counter?.watchRrlTable(limiter.table)
  // Signatures made at query time: this thread's, sized by the config (made again when that changes).
  let signatures: SignatureCache | undefined
  let madeBefore = 0
  const signaturesFor = (capacity: number): SignatureCache => {
    if (signatures?.capacity !== capacity) {
      madeBefore += signatures?.takeMade() ?? 0
      signatures = createSignatureCache(capacity)
    }
    return signatures
  }
  counter?.watchSignatures(() => {
    const made = madeBefore + (signatures?.takeMade() ?? 0)
    madeBefore = 0
    return { made, cached: signatures?.size ?? 0 }
  })
  // One query in RESPONSE_TIME_SAMPLE is timed, around the whole answer (a wrapper: the rest pay one increment).
  let sampled = 0
  const answerTimed: PacketHandler = (packet, client, transport) => {
    if (++sampled < RESPONSE_TIME_SAMPLE || !counter) return answerPacket(packet, client, transport)
    sampled = 0
    const started = performance.now()
    const reply = answerPacket(packet, client, transport)
    counter.observeResponseTime((performance.now() - started) / 1000)
    return reply
  }
  const answerPacket: PacketHandler = (packet, client, transport) => {
    const snapshot = store.current
    const { rrl, cookies } = snapshot.defence
    let decoded: Decoded | undefined
    try {
      decoded = decodeQuery(packet)
      if (decoded.kind === 'drop') return undefined
      const limiting = rrl !== undefined && transport === 'udp'
      const edns = decoded.edns
      const cookieLength = cookies && edns ? edns.cookieLength : 0
      const addressLength = limiting || cookieLength > 0 ? readClientAddress(client.address, address) : 0
      if (decoded.kind === 'reject') {
        counter?.countQuery(transport, decoded.rcode, 0)
        const verdict = limiting && addressLength > 0 ? limiter.check(rrl, undefined, undefined, ResponseClass.error, false, address, addressLength) : SEND
        if (verdict !== SEND) {
          counter?.countLimited(verdict, ResponseClass.error)
          if (verdict === DROP) return undefined
        }
        // Error replies are no bigger than the query: a slipped one goes out as it is.
        return encodeReject(packet, decoded.header, decoded.rcode, decoded.nameLength, decoded.edns, decoded.tsig)
      }
      const query = decoded
      let proven = false
      let cookie: Uint8Array | undefined
      if (cookieLength > 0 && addressLength > 0 && cookies && edns) {
        const check = checkCookie(cookies, packet, edns.cookieAt, cookieLength, address, addressLength, Math.floor(Date.now() / 1000), serverCookie)
        counter?.countCookie(check)
        proven = check === CookieCheck.valid
        cookie = serverCookie
      }
      turn = (turn + 1) & 0x3fffffff
      const result = answer(query, client, snapshot, turn)
      const { plan, scope, tables, table } = result
      if (counter) {
        counter.countQuery(transport, plan.rcode, query.qtype)
        if (tables && table) counter.countGslbAnswer(tables, table, plan)
      }
      if (logQueries) logger.info({ client: client.address, transport, qname: nameToText(packet.subarray(12, 12 + query.nameLength)), qtype: query.qtype, rcode: plan.rcode }, 'query')
      // A valid server cookie (RFC 7873 §5.2.5) proves the client's address: nothing to reflect.
      if (limiting && !proven && addressLength > 0) {
        const responseClassOf = responseClass(plan)
        const verdict = limiter.check(rrl, query, plan, responseClassOf, tables !== undefined, address, addressLength)
        if (verdict !== SEND) {
          counter?.countLimited(verdict, responseClassOf)
          if (verdict === DROP) return undefined
          // The slip: a cookie client is told BADCOOKIE with a fresh cookie (RFC 7873 §5.2.3) and
          // comes back with it, exempt; any other gets TC=1 and asks again over TCP.
          return cookie
            ? encodeReject(packet, { id: query.id, opcode: 0, echoFlags: query.echoFlags }, Rcode.BADCOOKIE, query.nameLength, query.edns, undefined, cookie)
            : encodeTruncated(query, plan)
        }
      }
      // Signed only once the limiter let it through: a limited flood costs no signatures.
      const dnssec = snapshot.dnssec
      const sent = edns?.dnssecOk && dnssec.zones.size > 0 ? signAnswer(query, result, snapshot, signaturesFor(dnssec.cacheSize), Math.floor(Date.now() / 1000)) : plan
      return encodeResponse(query, sent, transport === 'tcp' ? TCP_LIMIT : udpLimit(query.edns), scope, cookie)
    } catch (error) {
      // A bug, not bad input: answer SERVFAIL and keep serving (CoreDNS `recover`).
      logger.error({ err: error, client: client.address }, 'query handling failed')
      if (decoded?.kind !== 'query') return undefined
      return encodeReject(packet, { id: decoded.id, opcode: 0, echoFlags: decoded.echoFlags }, Rcode.SERVFAIL, decoded.nameLength, decoded.edns)
    }
  }
  return answerTimed
}
