// What a probe is asked to do and what it found: the probes' own vocabulary, which the checker
// (../types.ts) builds on.

export type ProbeSpec =
  | { readonly type: 'tcp'; readonly port: number }
  | {
      readonly type: 'http' | 'https'
      readonly port: number
      readonly method: string
      readonly path: string
      readonly host: string | undefined
      readonly status: readonly number[]
      /** Substring, or a regular expression written /like this/. */
      readonly body: string | undefined
      readonly verifyTls: boolean
    }
  | { readonly type: 'dns'; readonly port: number; readonly query: string; readonly qtype: 'A' | 'AAAA'; readonly expect: string | undefined }
  /** ICMP echo, through the one fping process (icmp.ts). */
  | { readonly type: 'icmp' }
  /** An operator's command; `{address}` in it is the target's address (exec.ts). */
  | { readonly type: 'exec'; readonly command: readonly string[] }

/** 'local': the probe could not be made here (EMFILE, ENOBUFS, …); it says nothing about the target. */
export type ProbeResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly ms: number; readonly reason: 'timeout' | 'refused' | 'reset' | 'status' | 'body' | 'tls' | 'rcode' | 'error' | 'local'; readonly detail: string }
