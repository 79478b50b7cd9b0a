// The only mutable cell for query data: `current` is replaced whole by `publish`. Queries read it
// once per packet; handlers run synchronously, so a swap can't land in the middle of one.

import type { Snapshot } from './snapshot.ts'

export type Store = {
  readonly current: Snapshot
  publish(next: Snapshot): void
}

export function createStore(initial: Snapshot, onPublish: (next: Snapshot, previous: Snapshot) => void = () => undefined): Store {
  let current = initial
  return {
    get current() {
      return current
    },
    publish(next) {
      const previous = current
      current = next
      onPublish(next, previous)
    },
  }
}
