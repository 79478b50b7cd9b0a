import type { ProbeResult } from './types.ts'

/** A failed probe result, timed from `started` (performance.now()). */
export function failure(reason: Extract<ProbeResult, { ok: false }>['reason'], detail: string, started: number): ProbeResult {
  return { ok: false, ms: Math.round(performance.now() - started), reason, detail }
}

/**
 * Errors that say this machine could not make the probe (out of file descriptors, buffers or local
 * addresses), nothing about the target: such a result is a 'local' fault, never a verdict.
 */
const LOCAL_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL'])

/** `failure(reason, …)`, or a 'local' fault when `error` is this machine's own. */
export function errorFailure(reason: Extract<ProbeResult, { ok: false }>['reason'], error: NodeJS.ErrnoException, detail: string, started: number): ProbeResult {
  const local = error.code !== undefined ? LOCAL_ERRORS.has(error.code) : [...LOCAL_ERRORS].some((code) => error.message.includes(code))
  return failure(local ? 'local' : reason, detail, started)
}
