// A Control for admin API tests that need only a few of its parts: each one the test does not give
// throws if called, so a route that reaches further than the test expects fails loudly.

import type { Control } from '../../server/state/control.ts'

export function fakeControl(parts: Partial<Control> = {}): Control {
  const unused = (what: string) => (): never => {
    throw new Error(`control.${what} is not used by this test`)
  }
  return {
    zonesLoaded: () => 1,
    status: unused('status'),
    explain: unused('explain'),
    simulate: unused('simulate'),
    metrics: unused('metrics'),
    reload: unused('reload'),
    lbEvent: unused('lbEvent'),
    setAdminState: unused('setAdminState'),
    subscribe: () => () => undefined,
    fleet: () => undefined,
    audit: async () => [],
    settings: () => ({ tokens: new Map(), protectReads: false, logLevel: 'info' }),
    ...parts,
  }
}
