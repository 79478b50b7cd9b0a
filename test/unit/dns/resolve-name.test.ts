// Where query names resolve, through the name memo and its shortcut for names that are no node
// (resolved as the names below their parent were), checked against a plain lookup of each name:
// whatever order names come in, each gets the zone and closest encloser the plain lookup gives.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CompiledNode, CompiledZone } from '../../../server/dns/compile.ts'
import { nameKey, nameToText } from '../../../server/dns/name.ts'
import { findZone, resolveName } from '../../../server/dns/resolve-name.ts'
import { RRType, type Query } from '../../../server/dns/types.ts'
import { decodeQuery } from '../../../server/dns/wire/decode.ts'
import { slotBelowOutcome } from '../../../server/dns/wire/key-cache.ts'
import { buildSnapshot, EMPTY_GSLB, NO_ADMIN, zoneSet, type Snapshot } from '../../../server/state/snapshot.ts'
import { closestEncloser } from '../../../server/zone/lookup.ts'
import { loadZoneFolder } from '../../../server/zone/load-zones.ts'
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

const slotOf = (name: string): number => (decodeQuery(buildQuery(name, RRType.A)) as Query).keySlot

/** The plain lookup: zone origin, closest encloser and whether it is the name itself. */
function looked(name: string): string {
  const key = nameKey(Buffer.from(buildQuery(name, RRType.A).subarray(12, -4)))
  const zone = findZone(snapshot.zones, key)
  if (!zone) return 'no zone'
  const { node, exact } = closestEncloser(zone.nodes, key, zone.key)
  return place(zone, node, exact)
}

function resolved(name: string): string {
  const outcome = resolveName(snapshot, slotOf(name))
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
    const parent = slotOf('parent.test')
    expect(slotBelowOutcome(parent, snapshot.resolved.serial)).toBeGreaterThanOrEqual(0)
    // The node names below that parent still resolve to themselves.
    expect(resolved('www.parent.test')).toBe(looked('www.parent.test'))
    expect(resolved('child.parent.test')).toBe(looked('child.parent.test'))
  })
})
