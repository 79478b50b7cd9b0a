// A timer for a wall-clock time, however far ahead: setTimeout holds at most ~24.8 days, so a
// later time is reached in steps of a day. The control plane's signing and expiry timers use it.

const STEP_MS = 86_400_000

export type Alarm = {
  /** Runs `fire` once `atMs` has come (undefined: nothing to wait for); replaces what was set. */
  set(atMs: number | undefined, fire: () => void): void
  clear(): void
}

/** `now`: the clock the time is read on (ms). The timer never holds the process open. */
export function createAlarm(now: () => number): Alarm {
  let timer: NodeJS.Timeout | undefined
  const alarm: Alarm = {
    set(atMs, fire) {
      clearTimeout(timer)
      if (atMs === undefined) return
      timer = setTimeout(() => (now() >= atMs ? fire() : alarm.set(atMs, fire)), Math.min(Math.max(0, atMs - now()), STEP_MS))
      timer.unref()
    },
    clear: () => clearTimeout(timer),
  }
  return alarm
}
