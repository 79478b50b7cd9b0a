// The root pino logger (JSON lines on stdout); each area logs through child({ component }).

import { pino, type Logger } from 'pino'

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { service: 'signpost' } })
}
