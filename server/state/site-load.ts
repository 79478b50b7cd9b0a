// The load side of the control plane: runs the (injected) load poller for the config's sites,
// turns each reading into the LoadView with state/load-view.ts, and hands a changed view to the
// control plane to publish. A reload starts a new poller with the old one's readings.

import type { Config } from '../config/schema.ts'
import type { GslbName, LoadView } from '../gslb/types.ts'
import { sameLoad } from '../gslb/load.ts'
import type { LoadPoller, LoadPollerOptions } from '../load/poller.ts'
import { loadTargets } from '../load/targets.ts'
import type { LoadTarget } from '../load/types.ts'
import type { SiteLoadStatus } from './explain.ts'
import { loadView, siteLoads, type ShedChange } from './load-view.ts'

export type SiteLoad = {
  /** Reads the sites `config` gives a load signal, from now on. */
  restart(config: Config): void
  /** Each site's load as status shows it. */
  status(): Map<string, SiteLoadStatus>
  stop(): void
}

export type SiteLoadOptions = {
  readonly poller: (options: LoadPollerOptions) => LoadPoller
  readonly names: () => readonly GslbName[]
  /** The LoadView answers use now. */
  readonly current: () => LoadView
  readonly masterOf: (site: string) => string | undefined
  readonly latencyOf: (site: string) => number | undefined
  /** A changed view to publish, and which sites started or stopped shedding for which name. */
  readonly publish: (view: LoadView, changes: readonly ShedChange[]) => void
  readonly now: () => number
}

export function createSiteLoad(options: SiteLoadOptions): SiteLoad {
  let targets: readonly LoadTarget[] = []
  let poller: LoadPoller | undefined
  const readings = () => poller?.latest() ?? new Map()
  const onReading = (): void => {
    const { view, changes } = loadView(options.names(), targets, readings(), options.current(), options.now())
    if (!sameLoad(view, options.current())) options.publish(view, changes)
  }
  return {
    restart(config) {
      const previous = readings()
      poller?.stop()
      targets = loadTargets(config)
      poller = options.poller({ targets, previous, masterOf: options.masterOf, latencyOf: options.latencyOf, onReading })
    },
    status: () => siteLoads(targets, readings(), options.current(), options.names(), options.now()),
    stop: () => poller?.stop(),
  }
}
