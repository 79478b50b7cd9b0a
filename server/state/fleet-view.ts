// GET /v1/fleet, decided without I/O: the instances in the fleet and which of them serve zones or
// a config that differ from the rest (the split brain of hand-deployed name servers).

import type { Member } from './fleet.ts'

export type MemberView = Member & { readonly zonesDiffer: boolean; readonly configDiffers: boolean }

export type FleetView = {
  readonly instance: string
  readonly connected: boolean
  readonly problem: string | null
  readonly since: string
  readonly members: readonly MemberView[]
  /** Names of the members whose zones or config differ from the most common ones. */
  readonly differing: readonly string[]
}

/** The most common value of `of` among `members` (ties: the first seen). */
function mostCommon(members: readonly Member[], of: (m: Member) => string): string | undefined {
  const counts = new Map<string, number>()
  for (const m of members) counts.set(of(m), (counts.get(of(m)) ?? 0) + 1)
  let best: string | undefined
  for (const [value, count] of counts) if (best === undefined || count > counts.get(best)!) best = value
  return best
}

const zonesOf = (m: Member): string => m.zones.map((z) => `${z.name}@${z.serial}`).sort().join(' ')

export function fleetView(instance: string, link: { connected: boolean; problem: string | undefined; since: string }, members: readonly Member[]): FleetView {
  const zones = mostCommon(members, zonesOf)
  const config = mostCommon(members, (m) => m.config)
  const views = members.map((m) => ({ ...m, zonesDiffer: zonesOf(m) !== zones, configDiffers: m.config !== config }))
  return {
    instance,
    connected: link.connected,
    problem: link.problem ?? null,
    since: link.since,
    members: views,
    differing: views.filter((m) => m.zonesDiffer || m.configDiffers).map((m) => m.name),
  }
}
