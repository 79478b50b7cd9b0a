// The DNS decision, pure: (query, client, snapshot, turn) → AnswerPlan plus the ECS scope it used.
// No I/O, no clock; `turn` is the rotation counter the caller passes in. The only writes are to the
// snapshot's caches (where names resolve, the nearest site per location), which change no answer.
// Steps as in RFC 1034 §4.3.2: find the zone, find the node, then referral, GSLB choice, exact
// answer, wildcard or NXDOMAIN.

import { rcodePlan, type AnswerPlan } from '../dns/plan.ts'
import { RRClass, RRType, Rcode, type ClientInfo, type Query } from '../dns/types.ts'
import { locateClient } from '../geo/client-location.ts'
import { nearestFor } from '../gslb/nearest.ts'
import type { FamilyTable, NameTables } from '../gslb/tables.ts'
import type { NodePlans } from '../zone/compile.ts'
import { resolveName } from './resolve-name.ts'
import type { ResolvedName, Snapshot } from './snapshot.ts'

export type Answer = {
  readonly plan: AnswerPlan
  /** ECS scope prefix (RFC 7871 §7.2.1): how much of the client subnet the answer depended on. */
  readonly scope: number
  /** For a GSLB answer, the name's tables and the family table it came from (for metrics). */
  readonly tables: NameTables | undefined
  readonly table: FamilyTable | undefined
  /** Where the question name resolved (for signing the answer). */
  readonly resolved: ResolvedName | undefined
}

const REFUSED: Answer = { plan: rcodePlan(Rcode.REFUSED), scope: 0, tables: undefined, table: undefined, resolved: undefined }
/** RFC 9824 §3.5: NXNAME is a meta-type, only ever in an NSEC bitmap. */
const FORMERR: Answer = { plan: rcodePlan(Rcode.FORMERR), scope: 0, tables: undefined, table: undefined, resolved: undefined }

function plain(plan: AnswerPlan, resolved: ResolvedName): Answer {
  return { plan, scope: 0, tables: undefined, table: undefined, resolved }
}

export function answer(query: Query, client: ClientInfo, snapshot: Snapshot, turn: number): Answer {
  if (query.qclass !== RRClass.IN) return REFUSED
  // Zone transfers are not offered.
  if (query.qtype === RRType.AXFR || query.qtype === RRType.IXFR) return REFUSED
  if (query.qtype === RRType.NXNAME) return FORMERR
  const resolved = resolveName(snapshot, query.packet, query.nameLength)
  if (!resolved) return REFUSED
  const { zone, node, exact, tables } = resolved
  if (node.referral && !(exact && node.isCut && query.qtype === RRType.DS)) return plain(node.referral, resolved)
  if (tables && (query.qtype === RRType.A || query.qtype === RRType.AAAA)) {
    const table = query.qtype === RRType.A ? tables.v4 : tables.v6
    if (table) return gslbAnswer(resolved, tables, table, query, client, snapshot, turn)
  }
  const plans: NodePlans | undefined = exact ? node : node.wildcard
  if (!plans) return plain(zone.nxdomain, resolved)
  if (query.qtype === RRType.ANY) return plain(plans.any, resolved)
  const index = plans.types.indexOf(query.qtype)
  return plain(index < 0 ? plans.otherwise : (plans.answers[index] as AnswerPlan), resolved)
}

function gslbAnswer(resolved: ResolvedName, tables: NameTables, table: FamilyTable, query: Query, client: ClientInfo, snapshot: Snapshot, turn: number): Answer {
  switch (table.kind) {
    case 'fixed':
      return { plan: table.plan, scope: 0, tables, table, resolved }
    case 'rotation':
      return { plan: table.plans[turn % table.plans.length] as AnswerPlan, scope: 0, tables, table, resolved }
    case 'nearest': {
      const subnet = query.edns?.clientSubnet
      const located = snapshot.geo && locateClient(snapshot.geo, subnet, query.packet, client.address)
      // The answer depended on the client's network as the database drew it.
      const scope = subnet && subnet.sourcePrefix > 0 && located ? located.prefixLength : 0
      const location = located?.location
      const site = location ? nearestFor(table, location) : null
      const plans = site ? site.plans : table.unlocated
      return { plan: plans[turn % plans.length] as AnswerPlan, scope, tables, table, resolved }
    }
  }
}
