// `signpost serve --replace`: a restart that loses no query. The running Signpost is found by the
// pid in its state file's lock (`<admin.state_file>.lock`, the same file that keeps two instances
// off one state file). The new process loads and checks everything first; then
//   1. it sends SIGUSR2: the old one closes its admin API, finishes queued operator writes and lets
//      go of the state file, while it goes on answering DNS (and probing);
//   2. it takes the state file, runs its first probe round, and binds the DNS ports beside the old
//      sockets (SO_REUSEPORT: the kernel now spreads queries over both) and the admin port;
//   3. a second later it sends SIGTERM: the old one closes its sockets and exits.
// A problem before step 1 leaves the old one untouched.

import { setTimeout as sleep } from 'node:timers/promises'
import { StartupError } from './common/startup-error.ts'
import { isAlive, lockOwner } from './state/state-lock.ts'

/** How long the old process may take to let go of the state file. */
const HAND_OVER_MS = 10_000
/**
 * How long both answer before the old one closes: the new one has its JIT warm before it takes all
 * the traffic. (Closing drops what is queued on the old sockets either way; the bench's losses did
 * not change measurably with or without this second.)
 */
const OVERLAP_MS = 1000

export type Predecessor = {
  readonly pid: number
  /** Step 1: asks for the state and resolves once the old process let go of it. */
  takeOver(): Promise<void>
  /** Step 3: after both have answered for a moment, tells it to close and exit. */
  retire(): Promise<void>
}

/** The Signpost serving from `stateFile` now, or undefined (then --replace starts as serve does). */
export function findPredecessor(stateFile: string): Predecessor | undefined {
  const pid = lockOwner(stateFile)
  if (pid === undefined || pid === process.pid) return undefined
  return {
    pid,
    async takeOver() {
      process.kill(pid, 'SIGUSR2')
      const deadline = Date.now() + HAND_OVER_MS
      // lockOwner is undefined once the lock is gone or its owner is dead.
      while (lockOwner(stateFile) === pid) {
        if (Date.now() > deadline) throw new StartupError(`the Signpost being replaced (pid ${pid}) did not let go of ${stateFile} within ${HAND_OVER_MS / 1000} s; it is still serving`)
        await sleep(10)
      }
    },
    async retire() {
      await sleep(OVERLAP_MS)
      if (isAlive(pid)) process.kill(pid, 'SIGTERM')
    },
  }
}
