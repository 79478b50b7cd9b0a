// Where operator state lives, chosen at start: the local state file alone, or (with a `cluster`
// section) etcd, with the state file as its cache. A fleet instance that cannot reach etcd still
// starts, on the cache, and says so; it reconciles when etcd answers.

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Logger } from 'pino'
import { StartupError } from '../common/startup-error.ts'
import type { Config } from '../config/schema.ts'
import { nameToText } from '../dns/name.ts'
import { etcdSettings } from '../fleet/etcd-client.ts'
import type { AdminStore } from './admin-state.ts'
import { localAdminStore, openStateFile } from './admin-state-file.ts'
import { joinFleet, type Fleet, type Identity } from './fleet.ts'
import type { Inputs } from './load-inputs.ts'

export type OperatorStore = {
  readonly adminStore: AdminStore
  readonly fleet: { readonly link: Fleet; readonly identity: (inputs: Inputs) => Identity } | undefined
  close(): Promise<void>
}

export type OperatorStoreOptions = {
  readonly config: Config
  readonly configFile: string | undefined
  readonly stateFile: string
  readonly auditLog: string
  /** --instance, over `cluster.instance`. */
  readonly instance: string | undefined
  readonly logger: Logger
}

/** This build's version (package.json), as the fleet registry and the build info metric give it. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export async function openOperatorStore(options: OperatorStoreOptions): Promise<OperatorStore> {
  const { logger, config } = options
  const opened = openStateFile(options.stateFile, options.auditLog)
  const load = opened.load
  if (!load.ok) logger.error({ file: options.stateFile, setAside: load.setAside, problem: load.problem }, 'admin state file unreadable: set aside, starting with no overrides')
  if (!config.cluster) {
    const adminStore = localAdminStore(opened)
    return { adminStore, fleet: undefined, close: async () => adminStore.close() }
  }
  const read = etcdSettings(config.cluster, options.configFile, options.instance)
  if (!read.ok) {
    opened.lock.release()
    throw new StartupError(read.message)
  }
  const { settings } = read
  const started = new Date().toISOString()
  const link = joinFleet(settings, opened, logger.child({ component: 'fleet' }), () => new Date())
  // The first answers should be the fleet's, not the cache's, when etcd is there to say.
  if (!(await link.ready(settings.timeoutMs * 3))) {
    logger.error({ instance: settings.instance, endpoints: settings.endpoints, cachedAt: load.ok ? (load.fleet?.at ?? null) : null }, 'fleet: etcd unreachable at start; serving the cached operator state until it answers')
  }
  const identity = (inputs: Inputs): Identity => ({
    version: VERSION,
    started,
    zones: [...inputs.zones.byKey.values()].map((z) => ({ name: nameToText(z.origin), serial: z.serial })),
    config: answersConfigHash(inputs.config),
  })
  return { adminStore: link.adminStore, fleet: { link, identity }, close: () => link.close() }
}

/** The parts of a config that decide answers; two instances that differ here answer differently. */
function answersConfigHash(config: Config): string {
  const { checks, sites, names } = config
  return createHash('sha256').update(JSON.stringify({ checks, sites, names, fleet_rule: config.health?.fleet_rule })).digest('hex').slice(0, 16)
}
