// Which of a zone's keys are published (their DNSKEY is served) and active (they sign) at a time,
// from the timing metadata in their files (RFC 7583's Publish, Activate, Inactive, Delete); and
// when that next changes. Pure: a key roll is these times passing.

import type { ZoneKey } from './key-file.ts'

export function isPublished(key: ZoneKey, nowS: number): boolean {
  const { publish, delete: removed } = key.timing
  return (publish === undefined || publish <= nowS) && (removed === undefined || nowS < removed)
}

export function isActive(key: ZoneKey, nowS: number): boolean {
  const { activate, inactive } = key.timing
  return isPublished(key, nowS) && (activate === undefined || activate <= nowS) && (inactive === undefined || nowS < inactive)
}

/** The first timing event after `nowS` among `keys`, or undefined when none is ahead. */
export function nextKeyEvent(keys: readonly ZoneKey[], nowS: number): number | undefined {
  const ahead = keys.flatMap((k) => [k.timing.publish, k.timing.activate, k.timing.inactive, k.timing.delete]).filter((t): t is number => t !== undefined && t > nowS)
  return ahead.length > 0 ? Math.min(...ahead) : undefined
}

/** A key's state in words, for `signpost check` and status. */
export function keyState(key: ZoneKey, nowS: number): 'active' | 'published' | 'retired' | 'not yet published' {
  if (isActive(key, nowS)) return 'active'
  if (isPublished(key, nowS)) return key.timing.inactive !== undefined && key.timing.inactive <= nowS ? 'retired' : 'published'
  return key.timing.delete !== undefined && key.timing.delete <= nowS ? 'retired' : 'not yet published'
}
