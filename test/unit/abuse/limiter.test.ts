// What shares an account: the prefix (IPv4 /24, IPv6 /56), the class, and the plan (a zone node's
// answer, a wildcard's, the zone's NXDOMAIN) or, for a GSLB name, the name (case folded) and type;
// exempt networks never count. Driven through a thread's limiter with real decoded queries.

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createLimiter, DROP, SEND, SLIP } from '../../../server/abuse/limiter.ts'
import { ResponseClass, responseClass } from '../../../server/abuse/response-class.ts'
import { defenceSettings, type RrlSettings } from '../../../server/abuse/settings.ts'
import { AT_QNAME, makePlan, NONE, type AnswerPlan } from '../../../server/dns/plan.ts'
import { Rcode, RRType, type Query } from '../../../server/dns/types.ts'
import { decodeQuery } from '../../../server/dns/wire/decode.ts'
import { readClientAddress } from '../../../server/abuse/client-address.ts'
import { buildQuery } from '../../support/query.ts'

const settings = (rrl: object = {}): RrlSettings => defenceSettings({ rrl: { responses_per_second: 2, ...rrl } }, undefined, 0, new Uint8Array(16)).rrl!
const rrset = (type: number) => ({ type, ttl: 60, contextLength: 0, records: [] })
const answerPlan = makePlan(Rcode.NOERROR, [{ rrset: rrset(RRType.A), owner: AT_QNAME }], NONE, NONE)
// NXDOMAIN with the SOA at the apex, example.test. (14 bytes on the wire), a suffix of the query name.
const nxdomainPlan = makePlan(Rcode.NXDOMAIN, NONE, [{ rrset: rrset(RRType.SOA), owner: { kind: 'suffix', wireLength: 14 } }], NONE)
const query = (name: string, type: number = RRType.A): Query => decodeQuery(buildQuery(name, type)) as Query

function limiterFor(rrl = settings()) {
  const limiter = createLimiter(pino({ level: 'silent' }), 1, () => 12345)
  const address = new Uint8Array(16)
  /** The verdicts of `count` responses in a row to `client`. */
  return (client: string, q: Query, plan: AnswerPlan, count = 1, byName = false): number[] => {
    const length = readClientAddress(client, address)
    return Array.from({ length: count }, () => limiter.check(rrl, q, plan, responseClass(plan), byName, address, length))
  }
}

describe('rate limiter accounts', () => {
  it('one /24 shares an account; the next /24 has its own', () => {
    const check = limiterFor()
    expect(check('192.0.2.1', query('www.example.test'), answerPlan, 2)).toEqual([SEND, SEND])
    expect(check('192.0.2.200', query('www.example.test'), answerPlan, 2)).toEqual([DROP, SLIP])
    expect(check('192.0.3.1', query('www.example.test'), answerPlan)).toEqual([SEND])
  })

  it('one IPv6 /56 shares an account; the next /56 has its own', () => {
    const check = limiterFor()
    expect(check('2001:db8:0:100::1', query('www.example.test'), answerPlan, 2)).toEqual([SEND, SEND])
    expect(check('2001:db8:0:1ff:ffff::9', query('www.example.test'), answerPlan)).toEqual([DROP])
    expect(check('2001:db8:0:200::1', query('www.example.test'), answerPlan)).toEqual([SEND])
  })

  it("a GSLB name's answers count by name, whatever its case, and type (its plans rotate)", () => {
    const check = limiterFor()
    const rotation = [answerPlan, makePlan(Rcode.NOERROR, [{ rrset: rrset(RRType.A), owner: AT_QNAME }], NONE, NONE)]
    expect(check('192.0.2.1', query('www.example.test'), rotation[0]!, 1, true)).toEqual([SEND])
    expect(check('192.0.2.1', query('www.example.test'), rotation[1]!, 1, true)).toEqual([SEND])
    expect(check('192.0.2.1', query('WwW.ExAmPlE.tEsT'), rotation[0]!, 1, true)).toEqual([DROP])
    expect(check('192.0.2.1', query('www.example.test', RRType.AAAA), answerPlan, 1, true)).toEqual([SEND])
    expect(check('192.0.2.1', query('mail.example.test'), answerPlan, 1, true)).toEqual([SEND])
  })

  it("a zone's answers count by plan: every name a wildcard synthesizes is one account", () => {
    const check = limiterFor()
    const wildcard = makePlan(Rcode.NOERROR, [{ rrset: rrset(RRType.TXT), owner: AT_QNAME }], NONE, NONE)
    expect([...check('192.0.2.1', query('r1.example.test', RRType.TXT), wildcard), ...check('192.0.2.1', query('r2.example.test', RRType.TXT), wildcard), ...check('192.0.2.1', query('r3.example.test', RRType.TXT), wildcard)]).toEqual([SEND, SEND, DROP])
    expect(check('192.0.2.1', query('www.example.test'), answerPlan)).toEqual([SEND])
  })

  it('NXDOMAIN counts by zone: random names are one account', () => {
    const check = limiterFor()
    expect(check('192.0.2.1', query('a1.example.test'), nxdomainPlan)).toEqual([SEND])
    expect(check('192.0.2.1', query('b2.example.test'), nxdomainPlan)).toEqual([SEND])
    expect(check('192.0.2.1', query('c3.example.test'), nxdomainPlan)).toEqual([DROP])
    // The same names as answers are other accounts.
    expect(responseClass(nxdomainPlan)).toBe(ResponseClass.nxdomain)
    expect(check('192.0.2.1', query('c3.example.test'), answerPlan)).toEqual([SEND])
  })

  it('errors count by prefix alone', () => {
    const check = limiterFor()
    const refused = makePlan(Rcode.REFUSED, NONE, NONE, NONE, false)
    expect([...check('192.0.2.1', query('a.elsewhere'), refused), ...check('192.0.2.1', query('b.other', RRType.MX), refused), ...check('192.0.2.1', query('c.third'), refused)]).toEqual([SEND, SEND, DROP])
  })

  it('never counts an exempt network; other prefix lengths apply', () => {
    const check = limiterFor(settings({ exempt: ['192.0.2.0/28', '2001:db8::/32'], ipv4_prefix: 32 }))
    expect(check('192.0.2.15', query('www.example.test'), answerPlan, 10).every((v) => v === SEND)).toBe(true)
    expect(check('2001:db8::1', query('www.example.test'), answerPlan, 10).every((v) => v === SEND)).toBe(true)
    // /32: 192.0.2.16 and .17 are two accounts.
    expect(check('192.0.2.16', query('www.example.test'), answerPlan, 3)).toEqual([SEND, SEND, DROP])
    expect(check('192.0.2.17', query('www.example.test'), answerPlan)).toEqual([SEND])
  })
})
