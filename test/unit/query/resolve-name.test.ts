// Where query names resolve, through the name memo and its shortcut for names that are no node
// (resolved as the names below their parent were), checked against a plain lookup of each name:
// whatever order names come in, each gets the zone and closest encloser the plain lookup gives.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { nameKey, nameToText } from '../../../server/dns/name.ts'
import { RRType } from '../../../server/dns/types.ts'
import { decodeQuery } from '../../../server/dns/wire/decode.ts'
import { internName, notedBelow } from '../../../server/query/name-slots.ts'
import { resolveName } from '../../../server/query/resolve-name.ts'
import { buildSnapshot, EMPTY_GSLB, NO_ADMIN, type Snapshot } from '../../../server/query/snapshot.ts'
import type { CompiledNode, CompiledZone } from '../../../server/zone/compile.ts'
import { loadZoneFolder } from '../../../server/zone/load-zones.ts'
import { closestEncloser } from '../../../server/zone/lookup.ts'
import { findZone, zoneSet } from '../../../server/zone/zone-set.ts'
import { buildQuery } from '../../support/query.ts'
import { seededRandom } from '../../support/random.ts'

// A parent zone with a delegation, a wildcard and an empty non-terminal, and a child zone we also host.
const PARENT = `$ORIGIN parent.test.
$TTL 60
@        SOA ns1 hostmaster 1 3600 900 604800 60
         NS  ns1
ns1      A   192.0.2.1
www      A   192.0.2.10
deleg    NS  ns.deleg
ns.deleg A   192.0.2.53
*.wild   A   192.0.2.99
a.b.deep A   192.0.2.7
child    NS  ns1.child
ns1.child A  192.0.2.2
`
const CHILD = `$ORIGIN child.parent.test.
$TTL 60
@        SOA ns1 hostmaster 1 3600 900 604800 60
         NS  ns1
ns1      A   192.0.2.2
www      A   192.0.2.20
`
const NODES = ['parent.test', 'ns1.parent.test', 'www.parent.test', 'deleg.parent.test', 'ns.deleg.parent.test', 'wild.parent.test', '*.wild.parent.test', 'b.deep.parent.test', 'a.b.deep.parent.test', 'child.parent.test', 'ns1.child.parent.test', 'www.child.parent.test']

let snapshot: Snapshot

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'signpost-resolve-'))
  writeFileSync(join(dir, 'parent.test.zone'), PARENT)
  writeFileSync(join(dir, 'child.parent.test.zone'), CHILD)
  const folder = loadZoneFolder(dir)
  if (!folder.ok || !folder.loads.every((l) => l.ok)) throw new Error(JSON.stringify(folder))
  snapshot = buildSnapshot(1, zoneSet(folder.loads.flatMap((l) => (l.ok ? [l.zone] : []))), EMPTY_GSLB, new Map(), NO_ADMIN, undefined)
})

/** The question of a query for `name`, as resolveName takes it. */
function question(name: string): { packet: Uint8Array; nameLength: number } {
  const packet = buildQuery(name, RRType.A)
  const decoded = decodeQuery(packet)
  if (decoded.kind !== 'query') throw new Error(`${name}: ${decoded.kind}`)
  return { packet, nameLength: decoded.nameLength }
}

/** The plain lookup: zone origin, closest encloser and whether it is the name itself. */
function looked(name: string): string {
  const key = nameKey(Buffer.from(buildQuery(name, RRType.A).subarray(12, -4)))
  const zone = findZone(snapshot.zones, key)
  if (!zone) return 'no zone'
  const { node, exact } = closestEncloser(zone.nodes, key, zone.key)
  return place(zone, node, exact)
}

function resolved(name: string): string {
  const { packet, nameLength } = question(name)
  const outcome = resolveName(snapshot, packet, nameLength)
  return outcome ? place(outcome.zone, outcome.node, outcome.exact) : 'no zone'
}

/** Zone origin, node name and whether the node is the name itself, as text. */
function place(zone: CompiledZone, node: CompiledNode, exact: boolean): string {
  const nodeKey = [...zone.nodes].find(([, n]) => n === node)?.[0] ?? '?'
  return `${text(zone.key)} ${text(nodeKey)} ${exact}`
}

/** A lookup key (lowercase wire form as latin1) as dotted text. */
const text = (key: string): string => nameToText(Buffer.from(key, 'latin1'))

describe('name resolution through the memo', () => {
  it('every name, node or not, in or out of our zones, resolves as the plain lookup says, in any order', () => {
    const random = seededRandom(20261123)
    const names = [...NODES, 'other.test', 'x.other.test', 'test']
    for (const node of [...NODES, 'other.test']) {
      for (let i = 0; i < 20; i++) names.push(`r${i}.${node}`, `r${i}.s${i % 3}.${node}`)
    }
    const expected = new Map(names.map((name) => [name, looked(name)]))
    expect(new Set(expected.values()).size).toBeGreaterThan(20) // the names really land in many places
    for (let round = 0; round < 6; round++) {
      const order = [...names].sort(() => random() - 0.5)
      for (const name of order) expect(resolved(round % 2 === 0 ? name : name.toUpperCase())).toBe(expected.get(name))
    }
  })

  it("names asked once below one parent are resolved from the outcome noted in the parent's slot", () => {
    for (let i = 0; i < 50; i++) expect(resolved(`flood${i}.parent.test`)).toBe('parent.test. parent.test. false')
    const { packet, nameLength } = question('parent.test')
    expect(notedBelow(snapshot.cache.names, internName(packet, 12, nameLength))).toBeGreaterThanOrEqual(0)
    // The node names below that parent still resolve to themselves.
    expect(resolved('www.parent.test')).toBe(looked('www.parent.test'))
    expect(resolved('child.parent.test')).toBe(looked('child.parent.test'))
  })
})
