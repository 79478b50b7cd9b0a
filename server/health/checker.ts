// Wires timers → probe → rise/fall → transitions. One probe in flight per target at most, a
// bounded number in flight overall, jittered timers (unref'd, so they never keep the process
// alive), and transitions handed over in one batch per event-loop turn (not on a timer: a 1 s
// batch, as gdnsd has, would eat a third of a 3 s failover budget).

import { limitInFlight } from './in-flight.ts'
import { createProbeRunner } from './probe.ts'
import { nextDelay, nextHealth } from './rise-fall.ts'
import { INITIAL_HEALTH, type ProbeResult, type ProbeTarget, type TargetHealth, type Transition } from './types.ts'

export type CheckerOptions = {
  readonly targets: readonly ProbeTarget[]
  /** Health carried over from a previous checker (reload), by target id. */
  readonly previous: ReadonlyMap<string, TargetHealth>
  readonly onTransitions: (transitions: readonly Transition[], health: ReadonlyMap<string, TargetHealth>) => void
  readonly sourceAddress: string | undefined
  readonly maxInFlight: number
  /** exec checks running at once, at most (within maxInFlight). */
  readonly maxExecInFlight: number
  /** Injected so tests can fix the jitter. */
  readonly random: () => number
  /** Injected so tests can use a fake probe; by default, the real probes (probe.ts). */
  readonly probe?: (target: ProbeTarget) => Promise<ProbeResult>
  /** Every probe result, for metrics. */
  readonly onProbe?: (target: ProbeTarget, result: ProbeResult) => void
  /** A probe this machine could not make (a 'local' result): the checker's fault, not the target's. */
  readonly onFault?: (target: ProbeTarget, result: ProbeResult) => void
}

export type Checker = {
  /** One probe of every target at once (bounded by the probe timeouts), then the schedule starts. */
  start(): Promise<void>
  health(): ReadonlyMap<string, TargetHealth>
  stop(): void
}

const JITTER = 0.1

export function createChecker(options: CheckerOptions): Checker {
  const health = new Map<string, TargetHealth>(options.targets.map((t) => [t.id, options.previous.get(t.id) ?? INITIAL_HEALTH]))
  const timers = new Map<string, NodeJS.Timeout>()
  const runner = options.probe ? undefined : createProbeRunner(options.targets, options.sourceAddress, options.maxExecInFlight)
  const probe = options.probe ?? ((target: ProbeTarget) => runner!.probe(target))
  const inFlight = limitInFlight(options.maxInFlight)
  let stopped = false
  let pending: Transition[] = []

  const flush = (): void => {
    const batch = pending
    pending = []
    if (batch.length > 0 && !stopped) options.onTransitions(batch, health)
  }

  const probeOnce = async (target: ProbeTarget): Promise<void> => {
    const result = await inFlight.run(() => probe(target))
    if (stopped) return
    if (!result.ok && result.reason === 'local') options.onFault?.(target, result)
    else options.onProbe?.(target, result)
    const { health: next, transition } = nextHealth(target.id, health.get(target.id) ?? INITIAL_HEALTH, result, target.rules, Date.now())
    health.set(target.id, next)
    if (transition) {
      if (pending.length === 0) setImmediate(flush)
      pending.push(transition)
    }
  }

  const schedule = (target: ProbeTarget, delay: number): void => {
    if (stopped) return
    const timer = setTimeout(() => {
      void probeOnce(target).then(() => schedule(target, jitter(nextDelay(health.get(target.id) ?? INITIAL_HEALTH, target.rules))))
    }, delay)
    timer.unref()
    timers.set(target.id, timer)
  }

  const jitter = (delay: number): number => delay * (1 - JITTER + 2 * JITTER * options.random())

  return {
    async start() {
      const fresh = options.targets.filter((t) => !options.previous.has(t.id))
      await Promise.all(fresh.map((t) => probeOnce(t)))
      flush()
      // Each target starts at a random phase of its interval, so 1,000 targets probe at an even
      // rate rather than in one burst a second after the start-up round.
      for (const target of options.targets) schedule(target, nextDelay(health.get(target.id) ?? INITIAL_HEALTH, target.rules) * options.random())
    },
    health: () => health,
    stop() {
      stopped = true
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
      runner?.stop()
    },
  }
}
