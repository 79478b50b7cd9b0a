// A load problem in an operator's file: what is wrong and exactly where. Zone and config loading
// return these as values; `signpost check`, reload replies and start-up errors print them.

export type ProblemCode =
  | 'io' | 'syntax' | 'directive' | 'include' | 'owner' | 'ttl' | 'class' | 'type' | 'rdata'
  | 'no-soa' | 'soa-count' | 'soa-not-apex' | 'no-ns' | 'cname-and-other-data' | 'cname-count'
  | 'out-of-zone' | 'missing-glue' | 'duplicate-zone' | 'config' | 'key'

export type Problem = {
  readonly code: ProblemCode
  readonly file: string
  readonly line: number
  readonly message: string
}

/** `file:line: message [code]`, the form editors and CI logs link to. */
export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}: ${problem.message} [${problem.code}]`
}
