#!/usr/bin/env node
// Process entry: `signpost serve` or `signpost check`. Process-level handlers live here and only here.

import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runCheck } from './check.ts'
import { KEYS_USAGE, runKeysCommand } from './keys-cli.ts'
import { loadConfig } from './config/load-config.ts'
import * as defaults from './config/defaults.ts'
import type { Config } from './config/schema.ts'
import { createLogger } from './log.ts'
import { parseListenAddress } from './common/address.ts'
import { formatProblem } from './common/problem.ts'
import { raiseFileLimit } from './common/file-limit.ts'
import { StartupError } from './common/startup-error.ts'
import { findPredecessor } from './replace.ts'
import { LoadError, start } from './start.ts'
import type { Sources } from './state/load-inputs.ts'
import { readSettings, type LiveSettings } from './state/settings.ts'

const USAGE = `usage:
  signpost serve [--config FILE] [--zones DIR] [--listen ADDR:PORT]... [--admin ADDR:PORT] [--workers N] [--instance NAME] [--replace]
  signpost check [--config FILE] [--zones DIR]
${KEYS_USAGE}`

const EXIT = { ok: 0, problems: 1, usage: 2, startup: 3 } as const

type Settings = { sources: Sources; config: Config }

/**
 * Config file and zone folder, flags first. The config lives beside the zones: without --config it
 * is signpost.yaml in the --zones folder, else zones/signpost.yaml, when the file exists.
 */
function settings(values: { config?: string | undefined; zones?: string | undefined }): { ok: true; settings: Settings } | { ok: false; messages: string[] } {
  const besideZones = values.zones === undefined ? defaults.DEFAULT_CONFIG_FILE : join(values.zones, 'signpost.yaml')
  const configFile = values.config ?? (existsSync(besideZones) ? besideZones : undefined)
  let config: Config = {}
  if (configFile) {
    const loaded = loadConfig(configFile)
    if (!loaded.ok) return { ok: false, messages: loaded.problems.map(formatProblem) }
    config = loaded.config
  }
  // Zones sit beside the config unless it says otherwise.
  const zonesDir = values.zones ?? (configFile ? resolve(dirname(configFile), config.zones ?? '.') : defaults.DEFAULT_ZONES_DIR)
  return { ok: true, settings: { sources: { configFile, zonesDir }, config } }
}

function liveSettings(config: Config, configFile: string | undefined): LiveSettings {
  const read = readSettings(config, configFile)
  if (!read.ok) throw new StartupError(read.message)
  return read.settings
}

/** Where keys go without --dir: the config's dnssec.keys_dir (the config found as serve finds it), else here. */
function defaultKeysDir(): string {
  const found = settings({})
  const { configFile } = found.ok ? found.settings.sources : { configFile: undefined }
  const keysDir = found.ok ? found.settings.config.dnssec?.keys_dir : undefined
  return configFile && keysDir ? resolve(dirname(configFile), keysDir) : '.'
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'keys' || command === 'ds') return runKeysCommand(command, rest, { out: process.stdout, err: process.stderr, defaultDir: defaultKeysDir(), nowS: Math.floor(Date.now() / 1000) })
  let parsed
  try {
    parsed = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, zones: { type: 'string' }, listen: { type: 'string', multiple: true }, admin: { type: 'string' }, workers: { type: 'string' }, instance: { type: 'string' }, replace: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    })
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`)
    return EXIT.usage
  }
  const { values } = parsed
  if (values.help || (command !== 'serve' && command !== 'check')) {
    process.stderr.write(`${USAGE}\n`)
    return values.help ? EXIT.ok : EXIT.usage
  }
  if (command === 'check' && (values.listen || values.admin || values.workers || values.replace)) {
    process.stderr.write(`check takes --config and --zones only\n${USAGE}\n`)
    return EXIT.usage
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers)
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 256)) {
    process.stderr.write(`--workers takes a whole number from 0 to 256, not '${values.workers}'\n${USAGE}\n`)
    return EXIT.usage
  }
  for (const [flag, text] of [...(values.listen ?? []).map((t) => ['--listen', t] as const), ...(values.admin === undefined ? [] : [['--admin', values.admin] as const])]) {
    const address = parseListenAddress(text)
    if (!address.ok) {
      process.stderr.write(`${flag}: ${address.message}\n${USAGE}\n`)
      return EXIT.usage
    }
  }
  const resolved = settings(values)
  if (!resolved.ok) {
    for (const message of resolved.messages) process.stderr.write(`${message}\n`)
    return EXIT.problems
  }
  const { config, sources } = resolved.settings
  if (command === 'check') return (await runCheck(sources, process.stdout)) ? EXIT.ok : EXIT.problems

  const root = createLogger(config.log?.level)
  const { logger } = root
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection; still serving'))
  logger.info({ files: raiseFileLimit() }, 'open files limit')
  // Paths the config writes are read against its folder, as zones, GeoIP and tokens are; the
  // defaults (none written) are under the working directory, where a service keeps its data.
  const besideConfig = (path: string | undefined, fallback: string): string => resolve(path !== undefined && sources.configFile ? dirname(sources.configFile) : '.', path ?? fallback)
  const stateFile = besideConfig(config.admin?.state_file, defaults.DEFAULT_STATE_FILE)
  const auditLog = besideConfig(config.admin?.audit_log, defaults.DEFAULT_AUDIT_LOG)
  logger.info({ stateFile, auditLog }, 'operator state')
  // --replace: the Signpost on this state file now, which hands over once this one has loaded.
  const predecessor = values.replace ? findPredecessor(stateFile) : undefined
  if (values.replace) logger.info({ pid: predecessor?.pid ?? null }, predecessor ? 'replacing the running Signpost' : '--replace: no Signpost runs on this state file; starting as serve does')
  try {
    const server = await start({
      sources,
      stateFile,
      auditLog,
      instance: values.instance,
      listen: values.listen ?? config.listen ?? defaults.DEFAULT_LISTEN,
      admin: values.admin ?? config.admin?.listen ?? defaults.DEFAULT_ADMIN_LISTEN,
      settings: liveSettings(config, sources.configFile),
      readSettings: (next) => readSettings(next, sources.configFile),
      setLogLevel: root.setLevel,
      tcp: {
        idleTimeoutMs: config.tcp?.idle_timeout_ms ?? defaults.DEFAULT_TCP_IDLE_TIMEOUT_MS,
        maxConnections: config.tcp?.max_connections ?? defaults.DEFAULT_TCP_MAX_CONNECTIONS,
        maxPerClient: config.tcp?.max_per_client ?? defaults.DEFAULT_TCP_MAX_PER_CLIENT,
        maxBufferedBytes: config.tcp?.max_buffered_bytes ?? defaults.DEFAULT_TCP_MAX_BUFFERED_BYTES,
      },
      workers: workers ?? config.workers ?? defaults.DEFAULT_WORKERS,
      logQueries: config.log?.queries ?? false,
      logger,
      ...(predecessor ? { takeOver: () => predecessor.takeOver() } : {}),
    })
    if (predecessor) {
      void predecessor.retire().then(() => logger.info({ pid: predecessor.pid }, 'replaced: the old Signpost closes its sockets and exits'))
    }
    // Asked to hand over by a replacement (serve --replace): admin API closed, state file let go, DNS answered until SIGTERM.
    process.on('SIGUSR2', () => {
      logger.info('handing over to a replacement: admin API closed, operator state let go; still answering DNS')
      void server.handOver()
    })
    process.on('SIGHUP', () => {
      void server.control.reload().then((result) => {
        logger.info({ ok: result.ok, problems: result.ok ? 0 : result.problems.length, zones: result.zones.map((z) => `${z.name} ${z.serial}`) }, 'reload on SIGHUP')
      })
    })
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'signpost stopping')
        // Stopping takes milliseconds; whatever still holds on after two seconds is not waited for.
        setTimeout(() => process.exit(EXIT.ok), 2000).unref()
        void server.close().then(() => process.exit(EXIT.ok))
      })
    }
    return -1
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(error.message)
      return EXIT.startup
    }
    if (error instanceof LoadError) {
      for (const problem of error.problems) logger.fatal({ problem: formatProblem(problem) }, 'not starting: fix this first')
      return EXIT.problems
    }
    throw error
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`signpost: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = EXIT.startup
  },
)
