// An LB pair's state from its two sources: probes of each node's own address, and the keepalived
// notify events (MASTER/BACKUP/FAULT/STOP) the nodes post. Pure.

import type { HealthState } from './types.ts'

export type KeepalivedState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'

export type LbNodeStatus = { readonly name: string; readonly address: string; readonly probe: HealthState; readonly keepalived: KeepalivedState | undefined }

export type PairStatus = {
  readonly nodes: readonly LbNodeStatus[]
  /** One node down (by probe or keepalived): the VIP still answers, without redundancy. */
  readonly degraded: boolean
  /** Every node reported FAULT or STOP: nothing holds the VIP, so the site is down now. */
  readonly down: boolean
}

export function pairStatus(nodes: readonly LbNodeStatus[]): PairStatus {
  const failed = (n: LbNodeStatus): boolean => n.probe === 'down' || n.keepalived === 'FAULT' || n.keepalived === 'STOP'
  const down = nodes.length > 0 && nodes.every((n) => n.keepalived === 'FAULT' || n.keepalived === 'STOP')
  return { nodes, degraded: !down && nodes.some(failed), down }
}
