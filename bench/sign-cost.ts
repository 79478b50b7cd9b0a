// One signature's cost per algorithm (bench/run.ts section 5): 2,000 one-record A RRsets, each with
// its own owner, signed in turn on this thread; µs per RRSIG, the median of 5 rounds.

import { generateKey, importPrivateKey, type AlgorithmNumber } from '../server/dnssec/algorithm.ts'
import { canonicalRRset, signCanonical } from '../server/dnssec/rrsig.ts'
import { parseName } from '../server/dns/name.ts'
import { compileRRset } from '../server/zone/compile.ts'

const COUNT = 2000
const zone = (parseName('bench.test.', undefined) as { wire: Uint8Array }).wire
const rrsets = Array.from({ length: COUNT }, (_, i) => {
  const owner = (parseName(`host${i}.bench.test.`, undefined) as { wire: Uint8Array }).wire
  return { owner, canonical: canonicalRRset(owner, 1, 300, compileRRset(1, 300, [{ wire: Uint8Array.of(10, 0, i >> 8, i & 255), names: [] }], owner).records) }
})
const times = { validityS: 14 * 86_400, refreshS: 3 * 86_400, jitterS: 86_400 }
for (const [algorithm, name] of [[13, 'ECDSA P-256 (13)'], [15, 'Ed25519 (15)']] as [AlgorithmNumber, string][]) {
  const { privateBytes, publicBytes } = generateKey(algorithm)
  const keys = [{ tag: 1, algorithm, privateKey: importPrivateKey(algorithm, privateBytes, publicBytes) }]
  const rounds: number[] = []
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint()
    for (const { owner, canonical } of rrsets) signCanonical(keys, zone, times, owner, 1, 300, canonical, 1_800_000_000, 0.5)
    rounds.push(Number(process.hrtime.bigint() - started) / 1e3 / COUNT)
  }
  rounds.sort((a, b) => a - b)
  console.log(`one RRSIG, ${name}: ${rounds[2]!.toFixed(1)} µs (rounds ${rounds.map((r) => r.toFixed(1)).join(' ')})`)
}
