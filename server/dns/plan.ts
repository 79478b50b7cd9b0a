// What answer() decides and encode writes: RRsets pre-encoded at snapshot build time, plus where
// each owner name sits in the reply. Plans are built once per zone node and shared by every query.

import { threadId } from 'node:worker_threads'

/**
 * One record without its owner: TYPE, CLASS, TTL, RDLENGTH, RDATA. `body` compresses names
 * against the RRset's context name; `patches` lists (position in body, offset in the context name)
 * pairs whose 14-bit pointer gets the context's position in the reply added. `plain` has no
 * pointers, for replies too long for 14-bit offsets.
 */
export type CompiledRecord = {
  readonly body: Uint8Array
  readonly patches: readonly number[]
  readonly plain: Uint8Array
  /**
   * The RDATA in DNSSEC canonical form (RFC 4034 §6.2: names in it lowercased), only when that
   * differs from `plain`'s RDATA.
   */
  readonly canonical?: Uint8Array
}

export type CompiledRRset = {
  readonly type: number
  readonly ttl: number
  /** Wire length of the name this RRset's data was compressed against (a suffix of its owner). */
  readonly contextLength: number
  readonly records: readonly CompiledRecord[]
}

/**
 * Where the owner name of an RRset comes from: the question name itself, a suffix of it (zone
 * apex, zone cut, CNAME target above the query name), or a name written out in full.
 */
export type OwnerRef =
  | { readonly kind: 'qname' }
  | { readonly kind: 'suffix'; readonly wireLength: number }
  | { readonly kind: 'name'; readonly wire: Uint8Array }

export type RRsetRef = { readonly rrset: CompiledRRset; readonly owner: OwnerRef }

/**
 * What a negative answer (or a referral) says does not exist, for the NSEC a signed reply carries
 * (compact denial, RFC 9824): at which name, and which types do exist there: 'nxname' when the
 * name does not, 'node' for the types of the node the question name resolved to. A referral's
 * denial is at the zone cut: its DS RRset when the child is signed, else the types the cut has.
 */
export type Denial = {
  readonly owner: OwnerRef
  readonly types: readonly number[] | 'node' | 'nxname'
  readonly ds?: CompiledRRset
}

export type AnswerPlan = {
  /** Unique in the process for its lifetime, across threads: the key of encode's section cache. */
  readonly id: number
  readonly rcode: number
  readonly authoritative: boolean
  readonly answer: readonly RRsetRef[]
  readonly authority: readonly RRsetRef[]
  readonly additional: readonly RRsetRef[]
  /** Referral glue must fit or the reply is truncated (RFC 9471); other additional data is optional. */
  readonly additionalRequired: boolean
  /** Set on negative answers and referrals: what a signed reply proves with an NSEC (or DS). */
  readonly denial: Denial | undefined
}

/** The one shared empty list (empty sections, empty patch lists). */
export const NONE: readonly never[] = Object.freeze([])

// Plan ids: the thread id above a per-thread serial. Plans compiled on the main thread reach DNS
// workers by structured clone with their ids, beside the plans a worker builds itself.
const ID_BASE = threadId * 2 ** 36
let nextSerial = 0

/** A frozen plan; empty sections share one empty array (a zone of 100,000 names feels each). */
export function makePlan(rcode: number, answer: readonly RRsetRef[], authority: readonly RRsetRef[], additional: readonly RRsetRef[], authoritative = true, additionalRequired = false, denial?: Denial): AnswerPlan {
  const shared = (refs: readonly RRsetRef[]): readonly RRsetRef[] => (refs.length === 0 ? NONE : refs)
  const id = ID_BASE + nextSerial++
  return Object.freeze({ id, rcode, authoritative, answer: shared(answer), authority: shared(authority), additional: shared(additional), additionalRequired, denial })
}

export function rcodePlan(rcode: number): AnswerPlan {
  return makePlan(rcode, NONE, NONE, NONE, false)
}

/** The owner of an answer at the query name itself. */
export const AT_QNAME: OwnerRef = Object.freeze({ kind: 'qname' })

/** The denial of the question name's existence, and of the asked type at the name's node. */
export const NO_NAME: Denial = Object.freeze({ owner: AT_QNAME, types: 'nxname' })
export const NO_TYPE: Denial = Object.freeze({ owner: AT_QNAME, types: 'node' })
