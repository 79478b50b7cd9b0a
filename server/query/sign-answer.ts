// DNSSEC for one answer, when the query set DO and its zone is signed: the plan answer() chose,
// with an RRSIG after every authoritative RRset and, for a negative answer or a referral, the
// compact-denial NSEC (RFC 9824) or the cut's DS. Static RRsets carry the signatures made with
// the snapshot; GSLB answers, denials and wildcard answers are signed here, once per distinct
// content (the thread's signature cache), and the signed plan is kept in the snapshot's cache.
// An NXDOMAIN goes out as NOERROR with an NSEC whose bitmap holds NXNAME (RFC 9824 §3.1).

import { nameKey } from '../dns/name.ts'
import { makePlan, type AnswerPlan, type CompiledRecord, type CompiledRRset, type OwnerRef, type RRsetRef } from '../dns/plan.ts'
import { RRType, Rcode, type Query } from '../dns/types.ts'
import { compactNsec } from '../dnssec/nsec.ts'
import { canonicalRRset, signatureKey, signCanonical, type Signed } from '../dnssec/rrsig.ts'
import type { SignatureCache } from '../dnssec/signature-cache.ts'
import type { ZoneSigning } from '../dnssec/sign-zone.ts'
import type { Answer } from './answer.ts'
import type { ResolvedName, Snapshot } from './snapshot.ts'

const QUESTION_AT = 12

/** A signed plan and when its earliest signature is due to be made again. */
export type SignedPlan = { readonly plan: AnswerPlan; readonly refreshAt: number }

/** The plan to encode for a DO query: `result.plan` signed when its zone is, else as it is. */
export function signAnswer(query: Query, result: Answer, snapshot: Snapshot, signatures: SignatureCache, nowS: number): AnswerPlan {
  const { plan, resolved } = result
  if (!resolved || (plan.rcode !== Rcode.NOERROR && plan.rcode !== Rcode.NXDOMAIN)) return plan
  const signing = snapshot.dnssec.zones.get(resolved.zone.key)
  if (!signing) return plan
  // Denials at the question name and wildcard answers are signed for the name and type asked (a
  // shared NODATA plan's NSEC lists the types of the name asked, less the type asked); all else is fixed per plan.
  const perName = plan.denial?.owner.kind === 'qname' || (!resolved.exact && plan.authoritative)
  const key = perName ? `${plan.id} ${query.qtype}${nameKey(query.packet, QUESTION_AT, QUESTION_AT + query.nameLength)}` : plan.id
  const plans = snapshot.cache.signed
  const cached = plans.get(key)
  if (cached && cached.refreshAt > nowS) return cached.plan
  const signed = signPlan(query, plan, resolved, signing, signatures, nowS)
  if (plans.size >= snapshot.dnssec.cacheSize) plans.delete(plans.keys().next().value as number | string)
  plans.set(key, signed)
  return signed.plan
}

function signPlan(query: Query, plan: AnswerPlan, resolved: ResolvedName, signing: ZoneSigning, signatures: SignatureCache, nowS: number): SignedPlan {
  let refreshAt = Infinity
  const ownerWire = (owner: OwnerRef): Uint8Array => {
    const end = QUESTION_AT + query.nameLength
    switch (owner.kind) {
      case 'qname':
        return query.packet.subarray(QUESTION_AT, end)
      case 'suffix':
        return query.packet.subarray(end - owner.wireLength, end)
      case 'name':
        return owner.wire
    }
  }
  const note = (signed: Signed): CompiledRRset => {
    refreshAt = Math.min(refreshAt, signed.refreshAt)
    return signed.rrsig
  }
  /** The RRSIG of records owned by `owner`, from the thread's cache or made now. */
  const signNow = (owner: OwnerRef, type: number, ttl: number, records: readonly CompiledRecord[]): CompiledRRset => {
    const wire = ownerWire(owner)
    const canonical = canonicalRRset(wire, type, ttl, records)
    const key = signatureKey(signing.keysId, canonical)
    let signed = signatures.get(key, nowS)
    if (!signed) signatures.set(key, (signed = signCanonical(signing.keys, signing.signer, signing.times, wire, type, ttl, canonical, nowS, Math.random())))
    return note(signed)
  }
  /**
   * The section with each RRset followed by its RRSIG. Consecutive refs of one type at one owner
   * are one RRset (a GSLB answer's addresses). `staticOnly`: leave unsigned what has no static signature.
   */
  const withSignatures = (refs: readonly RRsetRef[], staticOnly: boolean): RRsetRef[] => {
    const out: RRsetRef[] = []
    for (let i = 0; i < refs.length; ) {
      const first = refs[i] as RRsetRef
      let end = i + 1
      while (end < refs.length && sameRRset(refs[end] as RRsetRef, first)) end++
      const group = refs.slice(i, end)
      out.push(...group)
      const known = group.length === 1 ? signing.statics.get(first.rrset) : undefined
      if (known) out.push({ rrset: note(known), owner: first.owner })
      else if (!staticOnly) out.push({ rrset: signNow(first.owner, first.rrset.type, first.rrset.ttl, group.flatMap((r) => r.rrset.records)), owner: first.owner })
      i = end
    }
    return out
  }

  const answer = withSignatures(plan.answer, false)
  // A referral's NS and glue are the child's, not ours: unsigned (RFC 4035 §3.1.4).
  const authority = plan.authoritative ? withSignatures(plan.authority, false) : [...plan.authority]
  const additional = plan.authoritative ? withSignatures(plan.additional, true) : plan.additional
  const denial = plan.denial
  if (denial?.ds) {
    const dsSignature = signing.statics.get(denial.ds)
    authority.push({ rrset: denial.ds, owner: denial.owner }, ...(dsSignature ? [{ rrset: note(dsSignature), owner: denial.owner }] : []))
  } else if (denial) {
    const types = denial.types === 'nxname' ? undefined : denial.types === 'node' ? typesAt(resolved).filter((t) => t !== query.qtype) : denial.types
    // RFC 9077: an NSEC lives as long as the negative answer it proves.
    const soa = plan.authority.find((ref) => ref.rrset.type === RRType.SOA) ?? (resolved.zone.nodata.authority[0] as RRsetRef)
    const nsec = compactNsec(ownerWire(denial.owner), types, soa.rrset.ttl)
    const proof = [{ rrset: nsec, owner: denial.owner }, { rrset: signNow(denial.owner, nsec.type, nsec.ttl, nsec.records), owner: denial.owner }]
    // Asked for the NSEC of a name that exists: that NSEC is the answer.
    if (query.qtype === RRType.NSEC && denial.owner.kind === 'qname' && types !== undefined) return { plan: makePlan(Rcode.NOERROR, proof, [], [], true), refreshAt }
    authority.push(...proof)
  }
  const rcode = plan.rcode === Rcode.NXDOMAIN ? Rcode.NOERROR : plan.rcode
  return { plan: makePlan(rcode, answer, authority, additional, plan.authoritative, plan.additionalRequired), refreshAt }
}

function sameRRset(a: RRsetRef, b: RRsetRef): boolean {
  return a.rrset.type === b.rrset.type && (a.owner === b.owner || (a.owner.kind === 'qname' && b.owner.kind === 'qname'))
}

/** The types at the node a name resolved to (for a name under a wildcard, the wildcard's). */
function typesAt(resolved: ResolvedName): readonly number[] {
  return (resolved.exact ? resolved.node : resolved.node.wildcard)?.types ?? []
}
