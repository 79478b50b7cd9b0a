// Starts a real Signpost on 127.0.0.1 port 0 (UDP and TCP on one port) over a zone folder.

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { start, type RunningServer } from '../../server/start.ts'
import { readSettings } from '../../server/state/settings.ts'
import { loadConfig } from '../../server/config/load-config.ts'

/** Log lines a test server wrote, parsed; pass one in to collect them. */
export type LogSink = Record<string, unknown>[]

export async function startTestServer(zonesDir: string, options: { idleTimeoutMs?: number; maxConnections?: number; maxPerClient?: number; maxBufferedBytes?: number; configFile?: string; logs?: LogSink; stateDir?: string; adminToken?: string; workers?: number } = {}): Promise<RunningServer & { port: number }> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'signpost-state-'))
  const sink = options.logs
  const logger = sink
    ? pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _encoding, done) { for (const line of chunk.toString().split('\n')) if (line) sink.push(JSON.parse(line) as Record<string, unknown>); done() } }))
    : pino({ level: 'silent' })
  // As `signpost serve` reads them: the config's tokens file, and the token given as the environment would.
  const env = { SIGNPOST_ADMIN_TOKEN: options.adminToken }
  const loaded = options.configFile ? loadConfig(options.configFile) : undefined
  const read = readSettings(loaded?.ok ? loaded.config : {}, options.configFile, env)
  if (!read.ok) throw new Error(read.message)
  const { settings } = read
  const server = await start({
    sources: { zonesDir, configFile: options.configFile },
    stateFile: join(stateDir, 'state.json'),
    auditLog: join(stateDir, 'audit.log'),
    listen: ['127.0.0.1:0'],
    admin: options.adminToken ? '127.0.0.1:0' : undefined,
    settings,
    readSettings: (config) => readSettings(config, options.configFile, env),
    setLogLevel: (level) => void (logger.level = level),
    tcp: { idleTimeoutMs: options.idleTimeoutMs ?? 10_000, maxConnections: options.maxConnections ?? 1000, maxPerClient: options.maxPerClient ?? 32, maxBufferedBytes: options.maxBufferedBytes ?? 8 << 20 },
    workers: options.workers ?? 0,
    logQueries: false,
    logger,
  })
  return Object.assign(server, { port: (server.addresses[0] as { port: number }).port })
}
