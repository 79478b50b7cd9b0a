// `signpost check`: loads everything a serve would (config, zones, GeoIP database, GSLB names
// against zones) and prints every problem as file:line. An operator's zone repo runs it in CI.

import type { Writable } from 'node:stream'
import { formatProblem } from './common/problem.ts'
import { nameToText } from './dns/name.ts'
import { loadInputs, type Sources } from './state/load-inputs.ts'

/** Prints the result; true when there is nothing to fix. */
export async function runCheck(sources: Sources, out: Writable): Promise<boolean> {
  const result = await loadInputs(sources)
  if (!result.ok) {
    for (const problem of result.problems) out.write(`${formatProblem(problem)}\n`)
    out.write(`${result.problems.length} problem(s)\n`)
    return false
  }
  const { inputs, zoneProblems } = result
  for (const zone of inputs.zones.byKey.values()) out.write(`ok ${nameToText(zone.origin)} serial ${zone.serial} (${zone.file})\n`)
  for (const name of inputs.gslb.names) out.write(`ok gslb ${name.fqdn} ${name.policy.kind} over ${name.servers.length} server(s)\n`)
  for (const problem of zoneProblems) out.write(`${formatProblem(problem)}\n`)
  if (inputs.zones.byKey.size === 0 && zoneProblems.length === 0) {
    out.write(`${sources.zonesDir}: no *.zone files\n`)
    return false
  }
  out.write(zoneProblems.length === 0 ? 'everything ok\n' : `${zoneProblems.length} problem(s)\n`)
  return zoneProblems.length === 0
}
