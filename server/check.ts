// `signpost check`: loads everything a serve would (config, zones, GeoIP database, GSLB names
// against zones) and prints every problem as file:line. An operator's zone repo runs it in CI.

import type { Writable } from 'node:stream'
import { formatProblem } from './common/problem.ts'
import { nameToText } from './dns/name.ts'
import { keyState } from './dnssec/key-timing.ts'
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
  const nowS = Math.floor(Date.now() / 1000)
  for (const zone of inputs.zones.byKey.values()) {
    const keys = (inputs.dnssec?.keys ?? []).filter((k) => k.zoneKey === zone.key).map((k) => `${k.tag} (${k.algorithm}, ${keyState(k, nowS)})`)
    const signing = keys.length === 0 ? '' : inputs.dnssec?.snapshot.zones.has(zone.key) ? ` signed by ${keys.join(', ')}` : ` unsigned: no active key among ${keys.join(', ')}`
    out.write(`ok ${nameToText(zone.origin)} serial ${zone.serial} (${zone.file})${signing}\n`)
  }
  for (const warning of result.warnings) out.write(`warning: ${warning}\n`)
  for (const name of inputs.gslb.names) out.write(`ok gslb ${name.fqdn} ${name.policy.kind} over ${name.servers.length} server(s)\n`)
  for (const problem of zoneProblems) out.write(`${formatProblem(problem)}\n`)
  if (inputs.zones.byKey.size === 0 && zoneProblems.length === 0) {
    out.write(`${sources.zonesDir}: no *.zone files\n`)
    return false
  }
  out.write(zoneProblems.length === 0 ? 'everything ok\n' : `${zoneProblems.length} problem(s)\n`)
  return zoneProblems.length === 0
}
