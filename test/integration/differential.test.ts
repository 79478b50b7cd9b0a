// Our zone parser against BIND's: named-checkzone -D prints the records it read in canonical
// form; both readings must hold exactly the same records (owner, type, TTL, wire data).

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { nameKey, parseName } from '../../server/dns/name.ts'
import { typeName } from '../../server/dns/types.ts'
import { parseZoneFile } from '../../server/zone/parse-zone.ts'

const run = promisify(execFile)

function recordSet(file: string, text: string | undefined, origin: string): string[] {
  const originWire = parseName(origin, undefined)
  if (!originWire.ok) throw new Error(originWire.message)
  const parsed = parseZoneFile(file, originWire.wire, (path) => (path === file && text !== undefined ? text : readFileSync(path, 'utf8')))
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
  // Owners compare case-insensitively; data bytes exactly.
  return parsed.zone.records.map((r) => `${JSON.stringify(nameKey(r.owner))} ${typeName(r.type)} ${r.ttl} ${Buffer.from(r.rdata.wire).toString('hex')}`).sort()
}

it.each([
  ['test/fixtures/zones/syntax/syntax.test.zone', 'syntax.test.'],
  ['test/fixtures/zones/basic/example.test.zone', 'example.test.'],
  ['zones/example.com.zone', 'example.com.'],
])('reads %s exactly as named-checkzone does', async (file, origin) => {
  const path = resolve(file)
  // BIND resolves $INCLUDE against its working directory; run it from the zone's folder so both agree.
  const { stdout } = await run('named-checkzone', ['-D', '-o', '-', '-k', 'ignore', origin, basename(path)], { cwd: dirname(path) })
  const ours = recordSet(path, undefined, origin)
  const bind = recordSet('/bind-output.zone', stdout, origin)
  expect(ours.length).toBeGreaterThan(5)
  expect(ours).toEqual(bind)
})
