// What the rate limiter counts a response as (BIND's and Knot's RRL classes): a positive answer,
// NODATA, NXDOMAIN, a referral, an error; and the name a limited account is logged under. The
// account itself is the plan (limiter.ts). Pure: a plan in, a class and an owner out.

import type { AnswerPlan, OwnerRef } from '../dns/plan.ts'
import { AT_QNAME } from '../dns/plan.ts'
import { Rcode, RRType } from '../dns/types.ts'

export const RESPONSE_CLASSES = ['answer', 'nodata', 'nxdomain', 'referral', 'error'] as const
export type ResponseClassName = (typeof RESPONSE_CLASSES)[number]
export const ResponseClass = { answer: 0, nodata: 1, nxdomain: 2, referral: 3, error: 4 } as const

export function responseClass(plan: AnswerPlan): number {
  if (plan.rcode === Rcode.NXDOMAIN) return ResponseClass.nxdomain
  if (plan.rcode !== Rcode.NOERROR) return ResponseClass.error
  if (plan.answer.length > 0) return ResponseClass.answer
  return !plan.authoritative && ownerOf(plan, RRType.NS) ? ResponseClass.referral : ResponseClass.nodata
}

/**
 * The name a limited account is logged under: the query name for an answer; the zone (its SOA's
 * owner) for NODATA and NXDOMAIN; the zone cut (the NS owner) for a referral; none for an error.
 */
export function accountedName(plan: AnswerPlan, responseClassOf: number): OwnerRef | undefined {
  switch (responseClassOf) {
    case ResponseClass.answer:
      return AT_QNAME
    case ResponseClass.referral:
      return ownerOf(plan, RRType.NS)
    case ResponseClass.error:
      return undefined
    default:
      return ownerOf(plan, RRType.SOA) ?? AT_QNAME
  }
}

function ownerOf(plan: AnswerPlan, type: number): OwnerRef | undefined {
  for (const ref of plan.authority) if (ref.rrset.type === type) return ref.owner
  return undefined
}
