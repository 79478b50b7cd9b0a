// `signpost check`: loads everything a serve would and prints every problem as file:line. An
// operator's zone repo runs it in CI before a deploy.

import type { Writable } from 'node:stream'
import { nameToText } from './dns/name.ts'
import { formatProblem } from './problem.ts'
import { loadZoneFolder } from './zone/load-zones.ts'

/** Prints the result; true when there is nothing to fix. */
export function runCheck(zonesDir: string, out: Writable): boolean {
  const folder = loadZoneFolder(zonesDir)
  if (!folder.ok) {
    for (const problem of folder.problems) out.write(`${formatProblem(problem)}\n`)
    return false
  }
  let problems = 0
  for (const load of folder.loads) {
    if (load.ok) {
      out.write(`ok ${nameToText(load.zone.origin)} serial ${load.zone.serial} (${load.file})\n`)
      continue
    }
    problems += load.problems.length
    for (const problem of load.problems) out.write(`${formatProblem(problem)}\n`)
  }
  if (folder.loads.length === 0) {
    out.write(`${zonesDir}: no *.zone files\n`)
    return false
  }
  out.write(problems === 0 ? `${folder.loads.length} zone(s) ok\n` : `${problems} problem(s)\n`)
  return problems === 0
}
