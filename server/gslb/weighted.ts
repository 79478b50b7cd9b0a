// Smooth weighted round-robin (nginx's algorithm): the order in which servers are picked so that,
// over any window, each gets its share and picks of the same server are spread out, not bunched.
//
// A cycle holds one ready plan per step, so its length is bounded whatever the weights are: past
// MAX_CYCLE steps the weights are scaled down to fit, rounded to whole steps, and a server with a
// weight keeps one step at least. For weights of 0-1000 (what config and the API take) a share
// moves by about one step in MAX_CYCLE (0.1%) at most. Memory and build time depend on the number
// of servers, never on the weight values.

/** The longest cycle built from the weights alone; a cycle is at most this plus one step per server. */
export const MAX_CYCLE = 1024

/** One full cycle of picks (length = sum of weights / their gcd, scaled down past MAX_CYCLE), as indexes into `weights`. */
export function smoothWeightedOrder(weights: readonly number[]): number[] {
  const scaled = cycleWeights(weights)
  const total = scaled.reduce((a, b) => a + b, 0)
  const current = scaled.map(() => 0)
  const order: number[] = []
  for (let step = 0; step < total; step++) {
    let best = 0
    for (let i = 0; i < scaled.length; i++) {
      current[i] = (current[i] as number) + (scaled[i] as number)
      if ((current[i] as number) > (current[best] as number)) best = i
    }
    current[best] = (current[best] as number) - total
    order.push(best)
  }
  return order
}

/** The weights divided by their gcd, and scaled down when their sum is still past MAX_CYCLE. */
function cycleWeights(weights: readonly number[]): number[] {
  const reduce = (values: readonly number[]): number[] => {
    const divisor = values.reduce((g, w) => gcd(g, w), 0) || 1
    return values.map((w) => w / divisor)
  }
  const reduced = reduce(weights)
  const total = reduced.reduce((a, b) => a + b, 0)
  if (total <= MAX_CYCLE) return reduced
  return reduce(reduced.map((w) => (w === 0 ? 0 : Math.max(1, Math.round((w * MAX_CYCLE) / total)))))
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}
