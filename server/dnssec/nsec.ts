// Compact denial of existence (RFC 9824): one NSEC owned by the name denied, whose next name is
// its immediate successor (`\000.` + the name), and whose type bitmap lists the types there, or
// NXNAME for a name that does not exist. Made per answer, so no chain of the zone's names exists
// to walk.

import { nameKey, ROOT_WIRE } from '../dns/name.ts'
import type { CompiledRRset } from '../dns/plan.ts'
import { RRType } from '../dns/types.ts'
import { compileRRset } from '../zone/compile.ts'

/** RFC 4034 §4.1.2: the type bitmap, window by window. */
export function typeBitmap(types: readonly number[]): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b)
  const out: number[] = []
  for (let i = 0; i < sorted.length; ) {
    const window = (sorted[i] as number) >>> 8
    const bits = new Uint8Array(32)
    let last = 0
    for (; i < sorted.length && (sorted[i] as number) >>> 8 === window; i++) {
      const low = (sorted[i] as number) & 0xff
      bits[low >>> 3] = (bits[low >>> 3] as number) | (0x80 >>> (low & 7))
      last = low >>> 3
    }
    out.push(window, last + 1, ...bits.subarray(0, last + 1))
  }
  return Uint8Array.from(out)
}

/** The compact NSEC RRset at `owner`: `types` exist there (undefined: the name does not exist). */
export function compactNsec(owner: Uint8Array, types: readonly number[] | undefined, ttl: number): CompiledRRset {
  const next = Buffer.concat([Uint8Array.of(1, 0), Buffer.from(nameKey(owner), 'latin1')])
  const bitmap = typeBitmap([...(types ?? [RRType.NXNAME]), RRType.RRSIG, RRType.NSEC])
  // The next name is never compressed (RFC 4034 §4.1.1): no names are marked in the data.
  return compileRRset(RRType.NSEC, ttl, [{ wire: Buffer.concat([next, bitmap]), names: [] }], ROOT_WIRE)
}
