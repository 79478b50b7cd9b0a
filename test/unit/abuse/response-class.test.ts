// How responses are accounted: class and name, from the plans answer() makes.

import { describe, expect, it } from 'vitest'
import { accountedName, ResponseClass, responseClass } from '../../../server/abuse/response-class.ts'
import { AT_QNAME, makePlan, NONE, rcodePlan, type CompiledRRset, type RRsetRef } from '../../../server/dns/plan.ts'
import { Rcode, RRType } from '../../../server/dns/types.ts'

const rrset = (type: number): CompiledRRset => ({ type, ttl: 60, contextLength: 0, records: [] })
const apex = { kind: 'suffix', wireLength: 14 } as const
const cut = { kind: 'suffix', wireLength: 20 } as const
const ref = (type: number, owner: RRsetRef['owner']): RRsetRef => ({ rrset: rrset(type), owner })

describe('response class', () => {
  it.each([
    ['an answer, by the query name', makePlan(Rcode.NOERROR, [ref(RRType.A, AT_QNAME)], NONE, NONE), ResponseClass.answer, AT_QNAME],
    ['NODATA, by the zone', makePlan(Rcode.NOERROR, NONE, [ref(RRType.SOA, apex)], NONE), ResponseClass.nodata, apex],
    ['NXDOMAIN, by the zone', makePlan(Rcode.NXDOMAIN, NONE, [ref(RRType.SOA, apex)], NONE), ResponseClass.nxdomain, apex],
    ['a referral, by the zone cut', makePlan(Rcode.NOERROR, NONE, [ref(RRType.NS, cut)], NONE, false), ResponseClass.referral, cut],
    ['REFUSED, by nothing but the prefix', rcodePlan(Rcode.REFUSED), ResponseClass.error, undefined],
    ['SERVFAIL, the same', rcodePlan(Rcode.SERVFAIL), ResponseClass.error, undefined],
  ])('%s', (_, plan, expectedClass, expectedName) => {
    expect(responseClass(plan)).toBe(expectedClass)
    expect(accountedName(plan, responseClass(plan))).toEqual(expectedName)
  })

  it('authoritative NS in the authority section is NODATA, not a referral', () => {
    expect(responseClass(makePlan(Rcode.NOERROR, NONE, [ref(RRType.NS, apex)], NONE, true))).toBe(ResponseClass.nodata)
  })
})
