// The root pino logger (JSON lines on stdout); each area logs through child({ component }). A
// reload may change the level: pino's children keep the level they were made with, so the root
// remembers its descendants (weakly: fastify makes one per request) to change theirs too.

import { pino, type Logger } from 'pino'

export type RootLogger = { readonly logger: Logger; setLevel(level: string): void }

export function createLogger(level = 'info'): RootLogger {
  const descendants = new Set<WeakRef<Logger>>()
  const logger = pino({ level, base: { service: 'signpost' }, onChild: (child) => void descendants.add(new WeakRef(child)) })
  return {
    logger,
    setLevel(next) {
      logger.level = next
      for (const ref of descendants) {
        const child = ref.deref()
        if (child) child.level = next
        else descendants.delete(ref)
      }
    },
  }
}
