// Milliseconds on a monotonic clock as an unsigned 32-bit number (it wraps after 49 days; never
// 0), read from a number a timer refreshes every 20 ms: the rate limiter asks the time for every
// UDP response, and performance.now() cost ~58 ns of the ~130 ns the limiter added per query
// (bench: limiter alone). 20 ms is fine grain for a rate counted per second. The timer is
// unref'd and made on first use, one per thread.

const TICK_MS = 20
let ms = 1
let timer: NodeJS.Timeout | undefined

function read(): number {
  return (Math.floor(performance.now()) >>> 0) || 1
}

export function coarseMs(): number {
  if (!timer) {
    ms = read()
    timer = setInterval(() => (ms = read()), TICK_MS).unref()
  }
  return ms
}
