// A bound on work in flight: at most `max` at once, the rest wait their turn in arrival order.
// The checker bounds all probes with one, and exec checks (each a process) with another.

export type InFlightLimit = {
  /** Runs `work` once fewer than the limit are running. */
  run<T>(work: () => Promise<T>): Promise<T>
}

export function limitInFlight(max: number): InFlightLimit {
  let running = 0
  const waiting: (() => void)[] = []
  return {
    async run(work) {
      if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve))
      running++
      try {
        return await work()
      } finally {
        running--
        waiting.shift()?.()
      }
    },
  }
}
