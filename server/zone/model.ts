// The zone model: a zone's nodes and their RRsets, as build-zone.ts makes them from parsed records
// and check-zone.ts and compile.ts read them.

import type { RData } from './rdata.ts'

export type RRset = {
  readonly type: number
  /** RFC 2181 §5.2: one TTL per RRset; the first record's wins. */
  readonly ttl: number
  readonly rdatas: readonly RData[]
  readonly file: string
  readonly line: number
}

export type ZoneNode = {
  readonly name: Uint8Array
  readonly key: string
  readonly rrsets: ReadonlyMap<number, RRset>
  /** The zone cut at or above this node (never the apex), if any. */
  readonly cut: ZoneNode | undefined
}

export type Zone = {
  readonly origin: Uint8Array
  readonly key: string
  readonly file: string
  readonly apex: ZoneNode
  readonly nodes: ReadonlyMap<string, ZoneNode>
  readonly serial: number
}
