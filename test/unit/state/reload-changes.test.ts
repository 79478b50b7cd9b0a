// Serial arithmetic (RFC 1982) for the reload's backwards-serial warning: a wrap past 2^32 is
// forward, a lower serial backwards.

import { describe, expect, it } from 'vitest'
import { serialsBackwards, type ReloadChanges } from '../../../server/state/reload-changes.ts'

const changes = (serials: [number, number][]): ReloadChanges => ({ zonesAdded: [], zonesRemoved: [], namesAdded: [], namesRemoved: [], serials: serials.map(([from, to]) => ({ zone: `z${from}.`, from, to })) })

describe('serialsBackwards', () => {
  it.each([
    [[2, 1], true],
    [[2026112302, 2026112301], true],
    [[1, 2], false],
    [[4294967295, 1], false],
    [[1, 4294967295], true],
    [[0, 2147483647], false],
  ] as [[number, number], boolean][])('%j backwards: %s', (serial, backwards) => {
    expect(serialsBackwards(changes([serial])).length > 0).toBe(backwards)
  })
})
