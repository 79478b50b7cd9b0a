// Waiting for an event, not a sleep: poll a check until it holds, within a limit.

/** Polls `check` every `everyMs` until it holds (a check that throws counts as not yet); the ms it took, or an error naming `what` after `limitMs`. */
export async function until(check: () => Promise<boolean>, limitMs: number, what: string, everyMs = 20): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started
    if (performance.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

