// Seeded randomness for fuzz and load tests, so a failing run can be repeated exactly.

/** mulberry32: small, fast, good enough to drive fuzzing. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A random or mutated DNS message: junk, a truncated or bit-flipped query, or a query with garbage appended. */
export function fuzzPacket(random: () => number, seeds: readonly Uint8Array[]): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n)
  if (random() < 0.3) return Uint8Array.from({ length: int(120) }, () => int(256))
  const packet = Uint8Array.from(seeds[int(seeds.length)] as Uint8Array)
  switch (int(4)) {
    case 0:
      return packet.subarray(0, int(packet.length + 1))
    case 1: {
      const grown = new Uint8Array(packet.length + 1 + int(40))
      grown.set(packet)
      for (let i = packet.length; i < grown.length; i++) grown[i] = int(256)
      return grown
    }
    default: {
      for (let flips = 1 + int(4); flips > 0; flips--) packet[int(packet.length)] = int(256)
      return packet
    }
  }
}
