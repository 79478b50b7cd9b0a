// A zone from master-file text, parsed and checked as a zone file would be, for unit tests that
// need a served zone without a folder on disk.

import { parseName } from '../../server/dns/name.ts'
import { buildZone } from '../../server/zone/build-zone.ts'
import { compileZone, type CompiledZone } from '../../server/zone/compile.ts'
import { parseZoneFile } from '../../server/zone/parse-zone.ts'

/** `origin` (with its final dot) served from `text`; throws on a problem, which is the test's own. */
export function zoneFromText(origin: string, text: string): CompiledZone {
  const wire = parseName(origin, undefined)
  if (!wire.ok) throw new Error(wire.message)
  const file = `/z/${origin.replace(/\.$/, '')}.zone`
  const parsed = parseZoneFile(file, wire.wire, () => text)
  if (!parsed.ok) throw new Error(parsed.problems[0]?.message)
  const zone = buildZone(parsed.zone, file)
  if (!zone.ok) throw new Error(zone.problems[0]?.message)
  return compileZone(zone.zone)
}
