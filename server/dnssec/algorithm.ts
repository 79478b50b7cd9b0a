// The two signing algorithms Signpost offers, on node's own crypto: ECDSA P-256 with SHA-256
// (algorithm 13, RFC 6605) and Ed25519 (algorithm 15, RFC 8080). Keys travel as JWK inside node,
// as raw bytes in DNSKEY records and BIND key files.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto'

export type AlgorithmNumber = 13 | 15

export type Algorithm = {
  readonly number: AlgorithmNumber
  /** The mnemonic BIND writes in key files (RFC 8624's names). */
  readonly mnemonic: string
  readonly publicKeyLength: number
  readonly privateKeyLength: number
}

export const ALGORITHMS: ReadonlyMap<number, Algorithm> = new Map([
  [13, { number: 13, mnemonic: 'ECDSAP256SHA256', publicKeyLength: 64, privateKeyLength: 32 }],
  [15, { number: 15, mnemonic: 'ED25519', publicKeyLength: 32, privateKeyLength: 32 }],
])

/** The key pair as a KeyObject, from the raw private part and the DNSKEY's public part; throws when they are no pair. */
export function importPrivateKey(algorithm: AlgorithmNumber, privateBytes: Uint8Array, publicBytes: Uint8Array): KeyObject {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
  const publicJwk = algorithm === 13 ? { kty: 'EC', crv: 'P-256', x: b64(publicBytes.subarray(0, 32)), y: b64(publicBytes.subarray(32)) } : { kty: 'OKP', crv: 'Ed25519', x: b64(publicBytes) }
  const key = createPrivateKey({ format: 'jwk', key: { ...publicJwk, d: b64(privateBytes) } })
  // A JWK's x (and y) are taken as given, not derived from d: a signature shows they belong together.
  const probe = randomBytes(32)
  const publicKey = createPublicKey({ format: 'jwk', key: publicJwk })
  const signature = signData(algorithm, key, probe)
  const pair = algorithm === 13 ? verify('sha256', probe, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature) : verify(null, probe, publicKey, signature)
  if (!pair) throw new Error('the private key does not match the DNSKEY')
  return key
}

/** The DNSKEY public key field of a private key (RFC 6605 §4: x then y; RFC 8080 §3: the 32 bytes). */
export function publicKeyOf(algorithm: AlgorithmNumber, key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' })
  const x = Buffer.from(jwk.x as string, 'base64url')
  return algorithm === 13 ? Buffer.concat([x, Buffer.from(jwk.y as string, 'base64url')]) : x
}

/** A fresh key: the raw private part and the DNSKEY public key field. */
export function generateKey(algorithm: AlgorithmNumber): { readonly privateBytes: Uint8Array; readonly publicBytes: Uint8Array } {
  const { privateKey } = algorithm === 13 ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return { privateBytes: Buffer.from(jwk.d as string, 'base64url'), publicBytes: publicKeyOf(algorithm, privateKey) }
}

/** The signature field of an RRSIG over `data` (RFC 6605 §4: r then s, 32 bytes each; RFC 8080 §4). */
export function signData(algorithm: AlgorithmNumber, key: KeyObject, data: Uint8Array): Uint8Array {
  return algorithm === 13 ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key)
}
