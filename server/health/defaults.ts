// Probe defaults, chosen so a killed backend leaves the answers in well under 1.5 s median and
// 3 s worst case: a refused connection fails at once, the recheck confirms it 150 ms later
// (fall 2); a black-holed one costs interval + timeout + recheck + timeout = 2.75 s at worst.

export const DEFAULT_INTERVAL_MS = 1000
export const DEFAULT_TIMEOUT_MS = 800
export const DEFAULT_RISE = 2
export const DEFAULT_FALL = 2
export const DEFAULT_RECHECK_MS = 150
export const DEFAULT_MAX_IN_FLIGHT = 256
export const DEFAULT_PORT = { tcp: 80, http: 80, https: 443, dns: 53 } as const
/** exec checks running at once, at most: each is a process. */
export const DEFAULT_MAX_EXEC_IN_FLIGHT = 8
