// Reply buffers, lent by size. A reply of n bytes is written into this thread's buffer of n bytes,
// made on first use and reused after. Making a Buffer per reply (a slice of Node's pool and its
// view object) cost ~1% of the CPU per query, measured side by side; the raw-loop floor makes none.
// At most ~2 MB per thread, if replies came in every size up to LENT_MAX.
//
// A lent reply stays unchanged until the next reply of its size is encoded on this thread. UDP
// sends at once when Node's send queue is empty (uv_udp_try_send); a caller whose send was queued
// calls `keepLentReply(reply)`, and that buffer becomes theirs. TCP copies the reply into its frame.

import { Buffer } from 'node:buffer'

/** Replies up to this size are lent (our largest UDP payload, with room); larger ones are made. */
const LENT_MAX = 2048
// Filled, so V8 keeps a flat array: indexes far past the end of an empty one make it a dictionary.
const lent = new Array<Buffer | undefined>(LENT_MAX + 1).fill(undefined)

export function replyBuffer(size: number): Buffer {
  if (size > LENT_MAX) return Buffer.allocUnsafe(size)
  // Its own backing store, not a slice of Node's pool: a kept 8 KiB pool slab per size would add up.
  return lent[size] ?? (lent[size] = Buffer.allocUnsafeSlow(size))
}

/** The reply now belongs to the caller; the next reply of its size gets a new buffer. */
export function keepLentReply(reply: Uint8Array): void {
  if (lent[reply.length] === reply) lent[reply.length] = undefined
}
