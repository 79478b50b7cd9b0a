// Named defaults, one place; README's config reference lists the same values.

import { availableParallelism } from 'node:os'

export const DEFAULT_LISTEN = ['127.0.0.1:5353']
/** One DNS worker thread per CPU the process may use; the main thread probes and serves the admin API. */
export const DEFAULT_WORKERS = availableParallelism()
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:8053'
export const DEFAULT_ZONES_DIR = 'zones'
export const DEFAULT_CONFIG_FILE = 'zones/signpost.yaml'
/** RFC 7766 §6.2.3 suggests seconds, not minutes, for an idle connection. */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000
export const DEFAULT_TCP_MAX_CONNECTIONS = 1_000
/** One client address may hold this many TCP connections (RFC 7766 §6.2.2). */
export const DEFAULT_TCP_MAX_PER_CLIENT = 32
/** Bytes of partial TCP messages all connections together may hold: 128 of the largest. */
export const DEFAULT_TCP_MAX_BUFFERED_BYTES = 8 * 1024 * 1024
/** Operator state and its audit trail: runtime data, kept out of the zones folder (relative to the working directory). */
export const DEFAULT_STATE_FILE = 'var/signpost-state.json'
export const DEFAULT_AUDIT_LOG = 'var/audit.log'
/** One etcd request may take this long before the client tries the next member. */
export const DEFAULT_ETCD_TIMEOUT_MS = 1000
/** An instance's lease: a dead instance's verdicts leave the fleet verdict after at most this. */
export const DEFAULT_LEASE_TTL_S = 5
export const DEFAULT_ETCD_PASSWORD_ENV = 'SIGNPOST_ETCD_PASSWORD'
/**
 * Response rate limiting (README "Abuse defence" says why these): 20 identical responses a
 * second per client /24 (or /56) and response class, every 2nd limited one sent back empty with
 * TC=1, and a prefix that keeps flooding stays limited until it has been under the rate for 5 s.
 */
export const DEFAULT_RRL_RESPONSES_PER_SECOND = 20
export const DEFAULT_RRL_SLIP = 2
export const DEFAULT_RRL_WINDOW_S = 5
export const DEFAULT_RRL_IPV4_PREFIX = 24
export const DEFAULT_RRL_IPV6_PREFIX = 56
/** Accounting slots per DNS worker (16 bytes each): 1 MB, however many prefixes send. */
export const DEFAULT_RRL_TABLE_SIZE = 65_536
/** DNSSEC: two weeks of validity (made again with 3.5 days left), an hour's DNSKEY TTL, 100,000 signed answers per thread. */
export const DEFAULT_SIGNATURE_VALIDITY_DAYS = 14
export const DEFAULT_DNSKEY_TTL = 3600
export const DEFAULT_SIGNATURE_CACHE = 100_000
