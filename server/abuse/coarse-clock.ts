// Seconds on a monotonic clock, read from a number a timer refreshes every 20 ms: the rate limiter
// asks the time for every UDP response, and performance.now() cost ~58 ns of the ~130 ns the
// limiter adds per query (bench: limiter alone). 20 ms is fine grain for a rate counted per second.
// The timer is unref'd and made on first use, one per thread.

const TICK_MS = 20
let seconds = 0
let timer: NodeJS.Timeout | undefined

export function coarseSeconds(): number {
  if (!timer) {
    seconds = performance.now() / 1000
    timer = setInterval(() => (seconds = performance.now() / 1000), TICK_MS).unref()
  }
  return seconds
}
