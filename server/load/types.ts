// What the load readers read and what they found: a site's utilisation from 0 (idle) to 1 (full).

/** One site's load signal, from its config. */
export type LoadTarget = {
  readonly site: string
  readonly signal:
    | { readonly type: 'haproxy'; readonly statsUrl: string; readonly proxy: string }
    | { readonly type: 'http_json'; readonly url: string; readonly field: string }
    /** The VIP probes' smoothed round trip (read from the checker, not the network): `fullMs` and slower is 1. */
    | { readonly type: 'latency'; readonly fullMs: number }
  /** The LB nodes' addresses, for `{node}` in a stats URL (the one keepalived says is MASTER is read first). */
  readonly nodes: readonly { readonly name: string; readonly address: string }[]
  readonly intervalMs: number
  readonly timeoutMs: number
}

/** HAProxy's own figures behind a utilisation, for status. */
export type HaproxyFigures = { readonly sessions: number; readonly limit: number; readonly queued: number; readonly responseMs: number | undefined }

export type LoadReading =
  | { readonly ok: true; readonly utilisation: number; readonly at: number; readonly from: string; readonly haproxy?: HaproxyFigures }
  | { readonly ok: false; readonly at: number; readonly from: string; readonly problem: string }
