// Smooth weighted round-robin (nginx's algorithm): the order in which servers are picked so that,
// over any window, each gets its share and picks of the same server are spread out, not bunched.

/** One full cycle of picks (length = sum of weights / their gcd), as indexes into `weights`. */
export function smoothWeightedOrder(weights: readonly number[]): number[] {
  const divisor = weights.reduce((g, w) => gcd(g, w), 0) || 1
  const scaled = weights.map((w) => w / divisor)
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

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}
