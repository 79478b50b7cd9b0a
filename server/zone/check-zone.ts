// Semantic checks a zone must pass before it is served (what named-checkzone and kzonecheck
// refuse too). Each problem names the record's file and line.

import { isSubdomain, nameKey, nameToText } from '../dns/name.ts'
import { RRType } from '../dns/types.ts'
import type { Problem } from '../common/problem.ts'
import type { RRset, ZoneNode } from './model.ts'

export function checkZone(apex: ZoneNode, nodes: ReadonlyMap<string, ZoneNode>, file: string): Problem[] {
  const problems: Problem[] = []
  const at = (rrset: RRset | undefined): { file: string; line: number } => (rrset ? { file: rrset.file, line: rrset.line } : { file, line: 0 })

  const soa = apex.rrsets.get(RRType.SOA)
  if (!soa) problems.push({ code: 'no-soa', file, line: 0, message: `zone ${nameToText(apex.name)} has no SOA record at its apex` })
  else if (soa.rdatas.length > 1) problems.push({ code: 'soa-count', ...at(soa), message: 'a zone has exactly one SOA record' })
  if (!apex.rrsets.has(RRType.NS)) problems.push({ code: 'no-ns', file, line: 0, message: `zone ${nameToText(apex.name)} has no NS records at its apex` })

  for (const node of nodes.values()) {
    const name = nameToText(node.name)
    const nodeSoa = node.rrsets.get(RRType.SOA)
    if (node !== apex && nodeSoa) problems.push({ code: 'soa-not-apex', ...at(nodeSoa), message: `SOA at ${name} is not at the zone apex` })
    const cname = node.rrsets.get(RRType.CNAME)
    if (cname) {
      // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME stands alone, and there is only one.
      if (cname.rdatas.length > 1) problems.push({ code: 'cname-count', ...at(cname), message: `${name} has more than one CNAME record` })
      if (node.rrsets.size > 1) problems.push({ code: 'cname-and-other-data', ...at(cname), message: `${name} has a CNAME and other data` })
    }
    if (node.cut === node) problems.push(...checkGlue(node, nodes))
  }
  return problems
}

/** RFC 9471: name servers inside the delegated zone need address records (glue) here. */
function checkGlue(cut: ZoneNode, nodes: ReadonlyMap<string, ZoneNode>): Problem[] {
  const ns = cut.rrsets.get(RRType.NS) as RRset
  const problems: Problem[] = []
  for (const rdata of ns.rdatas) {
    const target = rdata.wire
    if (!isSubdomain(target, cut.name)) continue
    const node = nodes.get(nameKey(target))
    if (!node || (!node.rrsets.has(RRType.A) && !node.rrsets.has(RRType.AAAA))) {
      problems.push({ code: 'missing-glue', file: ns.file, line: ns.line, message: `delegation ${nameToText(cut.name)} NS ${nameToText(target)} has no glue address record (A or AAAA)` })
    }
  }
  return problems
}
