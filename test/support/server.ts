// Starts a real Signpost on 127.0.0.1 port 0 (UDP and TCP on one port) over a zone folder.

import { pino } from 'pino'
import { start, type RunningServer } from '../../server/start.ts'

export async function startTestServer(zonesDir: string, options: { idleTimeoutMs?: number; maxConnections?: number; configFile?: string } = {}): Promise<RunningServer & { port: number }> {
  const server = await start({
    sources: { zonesDir, configFile: options.configFile },
    listen: ['127.0.0.1:0'],
    admin: undefined,
    tcp: { idleTimeoutMs: options.idleTimeoutMs ?? 10_000, maxConnections: options.maxConnections ?? 1000 },
    logQueries: false,
    logger: pino({ level: 'silent' }),
  })
  return Object.assign(server, { port: (server.addresses[0] as { port: number }).port })
}
