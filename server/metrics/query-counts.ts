// What the query path counts for metrics: numbers bumped in a typed array and two Maps, nothing
// more. `take()` folds them into plain totals and starts again; totals are structured-cloneable,
// so a DNS worker thread hands its counts to the main thread, where the Prometheus registry lives.

import type { AnswerPlan } from '../dns/plan.ts'
import { RRType } from '../dns/types.ts'
import type { FamilyTable, NameTables } from '../gslb/tables.ts'
import { COOKIE_CHECKS } from '../abuse/cookies.ts'
import { RESPONSE_CLASSES } from '../abuse/response-class.ts'

export const QTYPES = ['A', 'AAAA', 'NS', 'SOA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA', 'PTR', 'DS', 'ANY'] as const
const OTHER_QTYPE = QTYPES.length
/** Counter slot per qtype number, every one of the 65,536 (a typed array read, not a Map lookup). */
const QTYPE_SLOT = new Uint8Array(65536).fill(OTHER_QTYPE)
QTYPES.forEach((name, slot) => (QTYPE_SLOT[RRType[name]] = slot))
export const RCODES = 24
export const TRANSPORTS = ['udp', 'tcp'] as const
const QUERY_SLOTS = TRANSPORTS.length * RCODES * (QTYPES.length + 1)
/** The rate limiter's actions on a response it holds back (abuse/rrl-table.ts DROP, SLIP). */
export const LIMIT_ACTIONS = ['dropped', 'slipped'] as const
const LIMITED_SLOTS = LIMIT_ACTIONS.length * RESPONSE_CLASSES.length

/** One query in this many has its time to answer measured (the rest cost nothing). */
export const RESPONSE_TIME_SAMPLE = 64
/** Measured times kept between takes, at most (a scrape every few seconds keeps far fewer at real rates). */
const MAX_RESPONSE_TIMES = 4096

type ReasonCount = { readonly name: string; readonly family: string; readonly reason: string; count: number }

/**
 * Counts since the last take: per (transport, rcode, qtype) slot, per server address, per GSLB
 * name/family/reason, responses limited per (action, class), cookies per check result; and the
 * rate limiter's table as it stands (slots in use, bytes).
 */
export type QueryTotals = {
  readonly queries: Float64Array
  readonly servers: Map<string, number>
  readonly reasons: Map<string, ReasonCount>
  readonly limited: Float64Array
  readonly cookies: Float64Array
  readonly rrlTable: { readonly used: number; readonly bytes: number }
  /** RRSIGs signed at query time since the last take, and the thread's signature cache entries now. */
  readonly signatures: { made: number; readonly cached: number }
  /** Seconds each sampled query took inside the server, from message in to reply bytes out. */
  readonly responseTimes: number[]
}

export type QueryCounter = {
  countQuery(transport: 'udp' | 'tcp', rcode: number, qtype: number): void
  countGslbAnswer(tables: NameTables, table: FamilyTable, plan: AnswerPlan): void
  /** `action`: 1 dropped, 2 slipped (the limiter's verdicts); `responseClass`: an index of RESPONSE_CLASSES. */
  countLimited(action: number, responseClass: number): void
  /** `check`: an index of COOKIE_CHECKS. */
  countCookie(check: number): void
  /** A sampled query's time to answer, in seconds. */
  observeResponseTime(seconds: number): void
  /** Where take() reads the rate limiter's table from (the thread's limiter, once made). */
  watchRrlTable(read: () => QueryTotals['rrlTable']): void
  /** Where take() reads the signatures made since it last did, and the signature cache's size. */
  watchSignatures(take: () => QueryTotals['signatures']): void
  take(): QueryTotals
}

export function emptyTotals(): QueryTotals {
  return { queries: new Float64Array(QUERY_SLOTS), servers: new Map(), reasons: new Map(), limited: new Float64Array(LIMITED_SLOTS), cookies: new Float64Array(COOKIE_CHECKS.length), rrlTable: { used: 0, bytes: 0 }, signatures: { made: 0, cached: 0 }, responseTimes: [] }
}

/** Adds the counts; the tables and caches are gauges, and the sampled response times observations, left to the caller. */
export function addTotals(into: QueryTotals, from: QueryTotals): void {
  into.signatures.made += from.signatures.made
  for (let i = 0; i < QUERY_SLOTS; i++) into.queries[i] = (into.queries[i] as number) + (from.queries[i] ?? 0)
  for (let i = 0; i < LIMITED_SLOTS; i++) into.limited[i] = (into.limited[i] as number) + (from.limited[i] ?? 0)
  for (let i = 0; i < COOKIE_CHECKS.length; i++) into.cookies[i] = (into.cookies[i] as number) + (from.cookies[i] ?? 0)
  for (const [address, count] of from.servers) addServerCount(into, address, count)
  for (const entry of from.reasons.values()) addReasonCount(into, entry.name, entry.family, entry.reason, entry.count)
}

function addServerCount(totals: QueryTotals, address: string, count: number): void {
  totals.servers.set(address, (totals.servers.get(address) ?? 0) + count)
}

function addReasonCount(totals: QueryTotals, name: string, family: string, reason: string, count: number): void {
  const key = `${name} ${family} ${reason}`
  const total = totals.reasons.get(key)
  if (total) total.count += count
  else totals.reasons.set(key, { name, family, reason, count })
}

/** `servers` names the addresses a GSLB plan answers (plans are counted by identity until folded). */
export function createQueryCounter(servers: (plan: AnswerPlan) => readonly string[] | undefined): QueryCounter {
  let rrlTable = (): QueryTotals['rrlTable'] => ({ used: 0, bytes: 0 })
  let signatures = (): QueryTotals['signatures'] => ({ made: 0, cached: 0 })
  let queries = new Float64Array(QUERY_SLOTS)
  let limited = new Float64Array(LIMITED_SLOTS)
  let cookies = new Float64Array(COOKIE_CHECKS.length)
  let responseTimes: number[] = []
  const planCounts = new Map<AnswerPlan, number>()
  const tableCounts = new Map<FamilyTable, { name: string; family: string; count: number }>()
  return {
    countQuery(transport, rcode, qtype) {
      const index = ((transport === 'udp' ? 0 : 1) * RCODES + (rcode % RCODES)) * (QTYPES.length + 1) + (QTYPE_SLOT[qtype] as number)
      queries[index] = (queries[index] as number) + 1
    },
    countGslbAnswer(tables, table, plan) {
      planCounts.set(plan, (planCounts.get(plan) ?? 0) + 1)
      const entry = tableCounts.get(table)
      if (entry) entry.count++
      else tableCounts.set(table, { name: tables.name.fqdn, family: tables.v4 === table ? 'v4' : 'v6', count: 1 })
    },
    countLimited(action, responseClass) {
      const index = (action - 1) * RESPONSE_CLASSES.length + responseClass
      limited[index] = (limited[index] as number) + 1
    },
    countCookie(check) {
      cookies[check] = (cookies[check] as number) + 1
    },
    observeResponseTime(seconds) {
      if (responseTimes.length < MAX_RESPONSE_TIMES) responseTimes.push(seconds)
    },
    watchRrlTable(read) {
      rrlTable = read
    },
    watchSignatures(take) {
      signatures = take
    },
    take() {
      const totals: QueryTotals = { queries, servers: new Map(), reasons: new Map(), limited, cookies, rrlTable: rrlTable(), signatures: signatures(), responseTimes }
      responseTimes = []
      queries = new Float64Array(QUERY_SLOTS)
      limited = new Float64Array(LIMITED_SLOTS)
      cookies = new Float64Array(COOKIE_CHECKS.length)
      for (const [plan, count] of planCounts) for (const address of servers(plan) ?? []) addServerCount(totals, address, count)
      planCounts.clear()
      for (const [table, { name, family, count }] of tableCounts) addReasonCount(totals, name, family, table.reason, count)
      tableCounts.clear()
      return totals
    },
  }
}
