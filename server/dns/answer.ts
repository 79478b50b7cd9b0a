// The DNS decision, pure: (query, snapshot) → AnswerPlan. No I/O, no clock. Steps as in
// RFC 1034 §4.3.2: find the zone, find the node, then referral, exact answer, wildcard or NXDOMAIN.

import type { CompiledZone, NodePlans } from './compile.ts'
import { rcodePlan, type AnswerPlan } from './plan.ts'
import { RRClass, RRType, Rcode, type Query } from './types.ts'
import type { Snapshot } from '../state/snapshot.ts'
import { closestEncloser } from '../zone/lookup.ts'

const REFUSED = rcodePlan(Rcode.REFUSED)

export function answer(query: Query, snapshot: Snapshot): AnswerPlan {
  if (query.qclass !== RRClass.IN) return REFUSED
  // Zone transfers are not offered.
  if (query.qtype === RRType.AXFR || query.qtype === RRType.IXFR) return REFUSED
  const zone = findZone(snapshot, query.key)
  if (!zone) return REFUSED
  const { node, exact } = closestEncloser(zone.nodes, query.key)
  if (node.referral && !(exact && node.isCut && query.qtype === RRType.DS)) return node.referral
  const plans: NodePlans | undefined = exact ? node : node.wildcard
  if (!plans) return zone.nxdomain
  if (query.qtype === RRType.ANY) return plans.any
  const index = plans.types.indexOf(query.qtype)
  return index < 0 ? plans.otherwise : (plans.answers[index] as AnswerPlan)
}

/** The zone with the longest origin that is a suffix of the key, if any. */
export function findZone(snapshot: Snapshot, key: string): CompiledZone | undefined {
  const zones = snapshot.zones.byKey
  let offset = 0
  for (;;) {
    const zone = zones.get(offset === 0 ? key : key.slice(offset))
    if (zone) return zone
    const length = key.charCodeAt(offset)
    if (length === 0 || Number.isNaN(length)) return undefined
    offset += length + 1
  }
}
