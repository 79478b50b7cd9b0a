// The signpost.yaml schema (JSON Schema, checked by ajv) and the Config type it admits.
// Keep the two side by side: a key added to one is added to the other.

export type AdminStateName = 'enabled' | 'disabled' | 'drain' | 'up'
export type PolicyName = 'weighted' | 'failover' | 'nearest' | 'all'
export type WhenDown = 'fail_open' | 'nodata' | 'servfail' | 'fallback'

export type SiteConfig = {
  /** The site's VIPs (IPv4 and/or IPv6): the servers GSLB names answer with. */
  vips: string[]
  location?: { lat?: number; lon?: number; country?: string; continent?: string }
  /** The two load balancers holding the VIP (VRRP), node name → its own address. */
  lb_pair?: Record<string, string>
  /** Name of an entry under `checks`: how the VIPs are probed. */
  check?: string
  /** Name of an entry under `checks` for the LB nodes' own addresses; default tcp to the check's port. */
  lb_check?: string
  weight?: number
  /** Where the site's load is read (load/): its HAProxy's stats, or a URL that says it. */
  load?: LoadSignalConfig
}

/** A site's load signal: utilisation from 0 (idle) to 1 (full). */
export type LoadSignalConfig =
  | {
      type: 'haproxy'
      /** HAProxy's CSV stats; `{node}` is replaced by the address of the LB node that holds the VIP. */
      stats_url: string
      /** The frontend or backend (pxname) whose sessions count. */
      proxy: string
      interval_ms?: number
      timeout_ms?: number
    }
  | { type: 'http_json'; url: string; /** Dotted path to the number in the JSON (default `load`). */ field?: string; interval_ms?: number; timeout_ms?: number }
  /** The site's VIP probes' smoothed round trip: `full_ms` and slower is full load. */
  | { type: 'latency'; full_ms: number; interval_ms?: number; timeout_ms?: number }

/** What a GSLB name does with its sites' load (gslb/load.ts). */
export type NameLoadConfig = {
  mode: 'scale' | 'shed' | 'off'
  /** shed: a site above this takes no new clients… */
  shed_above?: number
  /** …until it is below this again. */
  return_below?: number
  /** scale: the least share of its weight a busy site keeps (weight × max(floor, 1 − utilisation)). */
  floor?: number
}

export type CheckConfig = {
  type: 'tcp' | 'http' | 'https' | 'dns' | 'icmp' | 'exec'
  port?: number
  interval_ms?: number
  timeout_ms?: number
  rise?: number
  fall?: number
  recheck_ms?: number
  method?: string
  path?: string
  host?: string
  status?: number[]
  body?: string
  tls_verify?: boolean
  query?: string
  qtype?: 'A' | 'AAAA'
  /** dns: an address the answer must hold. */
  expect?: string
  /** exec: the program and its arguments; `{address}` is replaced by the target's address. */
  command?: string[]
}

/** How the fleet's vantage points' verdicts make one: health/fleet-rule.ts. A number is the share of them that must say up. */
export type FleetRuleConfig = 'majority' | 'any' | 'all' | number

/** A fleet of instances sharing operator state and health through etcd (state/fleet.ts). */
export type ClusterConfig = {
  /** This instance's name in the fleet (default: the host name; --instance overrides). */
  instance?: string
  etcd: {
    endpoints: string[]
    /** Every key lives under it. */
    prefix: string
    /** PEM files, relative to the config: `ca` alone for server TLS, with `cert` and `key` for client certificates. */
    tls?: { ca: string; cert?: string; key?: string }
    username?: string
    /** The environment variable holding the password (default SIGNPOST_ETCD_PASSWORD). */
    password_env?: string
    /** How long one etcd request may take before the next member is tried (default 1000). */
    timeout_ms?: number
    /** The TTL of this instance's lease: its verdicts and registry entry outlive it by at most this (default 5). */
    lease_ttl_s?: number
  }
}

export type NameConfig = {
  policy: PolicyName
  /** Per-site weights (weighted, nearest ties, all); default: the site's weight. */
  weights?: Record<string, number>
  /** failover: groups of sites in order; a bare site name is a group of one. */
  order?: (string | string[])[]
  max_answers?: number
  ttl?: number
  when_down?: WhenDown
  /** when_down: fallback — a site name or an address answered when nothing is healthy. */
  fallback?: string
  /** when_down: nodata — the negative TTL of that answer. */
  negative_ttl?: number
  load?: NameLoadConfig
}

/** Response rate limiting (abuse/): per client prefix and response class, UDP only. */
export type RrlConfig = {
  /** Identical responses per second one prefix may get; 0 turns the limiter off. */
  responses_per_second?: number
  /** Every slip-th limited response goes out empty with TC=1 (0: none, all dropped). */
  slip?: number
  /** A prefix that stays over the rate goes this far into debt: it is answered again this long after it slows down. */
  window_s?: number
  ipv4_prefix?: number
  ipv6_prefix?: number
  /** Networks never limited (CIDRs): monitoring, your own resolvers. */
  exempt?: string[]
  /** Accounting slots per DNS worker: a fixed table, whatever the number of prefixes. */
  table_size?: number
}

/** DNS Cookies (RFC 7873, server cookies as RFC 9018). */
export type CookiesConfig = {
  enabled?: boolean
  /** 128-bit SipHash key as 32 hex digits; instances sharing it accept each other's cookies. Default: random at start. */
  secret?: string
}

/** Online DNSSEC signing (dnssec/): zones with an active key in keys_dir are signed. */
export type DnssecConfig = {
  /** BIND-format key files (K<zone>.+<alg>+<tag>.key / .private), relative to the config file. */
  keys_dir: string
  /** How long a signature is valid; it is made again when a quarter of that is left. */
  signature_validity_days?: number
  /** TTL of the DNSKEY (and CDS/CDNSKEY) RRsets. */
  dnskey_ttl?: number
  /** Publish CDS and CDNSKEY for the zone's SEP keys (RFC 8078), for parents that scan for them. */
  publish_cds?: boolean
  /** Signed answers each thread keeps (made at query time: GSLB answers, denials, wildcard answers). */
  signature_cache?: number
}

export type Config = {
  listen?: string[]
  /** DNS worker threads (default: one per CPU); 0 answers on the main thread beside the checker. */
  workers?: number
  zones?: string
  admin?: { listen?: string; state_file?: string; audit_log?: string; tokens_file?: string; tokens_env?: string; protect_reads?: boolean }
  tcp?: { idle_timeout_ms?: number; max_connections?: number; max_per_client?: number; max_buffered_bytes?: number }
  log?: { level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; queries?: boolean }
  geoip?: { database: string; cache?: number }
  health?: { source_address?: string; max_in_flight?: number; max_exec_in_flight?: number; fleet_rule?: FleetRuleConfig }
  cluster?: ClusterConfig
  rrl?: RrlConfig
  cookies?: CookiesConfig
  dnssec?: DnssecConfig
  checks?: Record<string, CheckConfig>
  sites?: Record<string, SiteConfig>
  names?: Record<string, NameConfig>
}

const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const
const siteName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' } as const
/** The keys of one load signal type (when `type` is `type`, exactly these). */
function loadSignal(type: string, keys: Record<string, unknown>, required: string[]) {
  return {
    if: { properties: { type: { const: type } } },
    then: { additionalProperties: false, required, properties: { type: true, ...keys, interval_ms: int(100, 3_600_000), timeout_ms: int(10, 60_000) } },
  }
}

/** An instance name is an etcd key segment and a log field: no slash, no space. */
export const instanceName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' } as const

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: { type: 'array', items: { type: 'string', format: 'listen-address' }, minItems: 1 },
    workers: int(0, 256),
    zones: { type: 'string', minLength: 1 },
    admin: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { type: 'string', format: 'listen-address' },
        state_file: { type: 'string', minLength: 1 },
        audit_log: { type: 'string', minLength: 1 },
        tokens_file: { type: 'string', minLength: 1 },
        tokens_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        protect_reads: { type: 'boolean' },
      },
    },
    tcp: {
      type: 'object',
      additionalProperties: false,
      properties: { idle_timeout_ms: int(100, 3_600_000), max_connections: int(1, 100_000), max_per_client: int(1, 100_000), max_buffered_bytes: int(65_535, 1 << 30) },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] }, queries: { type: 'boolean' } },
    },
    geoip: {
      type: 'object',
      additionalProperties: false,
      required: ['database'],
      properties: { database: { type: 'string', minLength: 1 }, cache: int(0, 10_000_000) },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      properties: {
        source_address: { type: 'string', format: 'ip' },
        max_in_flight: int(1, 10_000),
        max_exec_in_flight: int(1, 256),
        fleet_rule: { anyOf: [{ enum: ['majority', 'any', 'all'] }, { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }] },
      },
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['etcd'],
      properties: {
        instance: instanceName,
        etcd: {
          type: 'object',
          additionalProperties: false,
          required: ['endpoints', 'prefix'],
          properties: {
            endpoints: { type: 'array', items: { type: 'string', pattern: '^https?://[^/\\s]+$' }, minItems: 1 },
            prefix: { type: 'string', pattern: '^/[^\\s]*[^/\\s]$' },
            tls: {
              type: 'object',
              additionalProperties: false,
              required: ['ca'],
              dependencies: { cert: ['key'], key: ['cert'] },
              properties: { ca: { type: 'string', minLength: 1 }, cert: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } },
            },
            username: { type: 'string', minLength: 1 },
            password_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
            timeout_ms: int(100, 60_000),
            lease_ttl_s: int(2, 600),
          },
        },
      },
    },
    rrl: {
      type: 'object',
      additionalProperties: false,
      properties: {
        responses_per_second: int(0, 1_000_000),
        slip: int(0, 10),
        window_s: int(1, 3600),
        ipv4_prefix: int(8, 32),
        ipv6_prefix: int(16, 128),
        exempt: { type: 'array', items: { type: 'string', format: 'cidr' } },
        table_size: int(1024, 16_777_216),
      },
    },
    dnssec: {
      type: 'object',
      additionalProperties: false,
      required: ['keys_dir'],
      properties: {
        keys_dir: { type: 'string', minLength: 1 },
        signature_validity_days: int(2, 365),
        dnskey_ttl: int(0, 604_800),
        publish_cds: { type: 'boolean' },
        signature_cache: int(1000, 10_000_000),
      },
    },
    cookies: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, secret: { type: 'string', pattern: '^[0-9A-Fa-f]{32}$' } },
    },
    checks: {
      type: 'object',
      propertyNames: siteName,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { enum: ['tcp', 'http', 'https', 'dns', 'icmp', 'exec'] },
          port: int(1, 65535),
          interval_ms: int(100, 3_600_000),
          timeout_ms: int(10, 60_000),
          rise: int(1, 100),
          fall: int(1, 100),
          recheck_ms: int(10, 60_000),
          tls_verify: { type: 'boolean' },
          expect: { type: 'string', format: 'ip' },
          method: { enum: ['GET', 'HEAD', 'POST', 'OPTIONS'] },
          path: { type: 'string', pattern: '^/' },
          host: { type: 'string', minLength: 1 },
          status: { type: 'array', items: int(100, 599), minItems: 1 },
          body: { type: 'string', minLength: 1 },
          query: { type: 'string', minLength: 1 },
          qtype: { enum: ['A', 'AAAA'] },
          command: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        },
        // exec runs its command; no other type takes one.
        if: { properties: { type: { const: 'exec' } } },
        then: { required: ['command'] },
        else: { not: { required: ['command'] } },
      },
    },
    sites: {
      type: 'object',
      propertyNames: siteName,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['vips'],
        properties: {
          vips: { type: 'array', items: { type: 'string', format: 'ip' }, minItems: 1 },
          location: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            dependencies: { lat: ['lon'], lon: ['lat'] },
            properties: {
              lat: { type: 'number', minimum: -90, maximum: 90 },
              lon: { type: 'number', minimum: -180, maximum: 180 },
              country: { type: 'string', pattern: '^[A-Z]{2}$' },
              continent: { enum: ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] },
            },
          },
          lb_pair: { type: 'object', propertyNames: siteName, additionalProperties: { type: 'string', format: 'ip' }, minProperties: 2, maxProperties: 2 },
          check: siteName,
          lb_check: siteName,
          weight: int(0, 1000),
          load: {
            type: 'object',
            required: ['type'],
            properties: { type: { enum: ['haproxy', 'http_json', 'latency'] } },
            // One set of keys per signal type, each checked as strictly as the rest of the config.
            allOf: [
              loadSignal('haproxy', { stats_url: { type: 'string', pattern: '^https?://' }, proxy: { type: 'string', minLength: 1 } }, ['stats_url', 'proxy']),
              loadSignal('http_json', { url: { type: 'string', pattern: '^https?://' }, field: { type: 'string', minLength: 1 } }, ['url']),
              loadSignal('latency', { full_ms: int(1, 60_000) }, ['full_ms']),
            ],
          },
        },
      },
    },
    names: {
      type: 'object',
      propertyNames: { type: 'string', pattern: '^([A-Za-z0-9_*-]+\\.)+$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['policy'],
        properties: {
          policy: { enum: ['weighted', 'failover', 'nearest', 'all'] },
          weights: { type: 'object', propertyNames: siteName, additionalProperties: int(0, 1000) },
          order: { type: 'array', minItems: 1, items: { anyOf: [siteName, { type: 'array', items: siteName, minItems: 1 }] } },
          max_answers: int(1, 64),
          ttl: int(0, 300),
          when_down: { enum: ['fail_open', 'nodata', 'servfail', 'fallback'] },
          fallback: { type: 'string', minLength: 1 },
          negative_ttl: int(0, 86400),
          load: {
            type: 'object',
            additionalProperties: false,
            required: ['mode'],
            properties: {
              mode: { enum: ['scale', 'shed', 'off'] },
              shed_above: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
              return_below: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
              floor: { type: 'number', minimum: 0, maximum: 1 },
            },
          },
        },
      },
    },
  },
} as const
