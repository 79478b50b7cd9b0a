// The load signals' pure parts: HAProxy's CSV stats and a JSON load reply → a utilisation.

import { describe, expect, it } from 'vitest'
import { haproxyLoad } from '../../../server/load/haproxy-csv.ts'
import { jsonLoad } from '../../../server/load/json-load.ts'
import { createLoadPoller } from '../../../server/load/poller.ts'

// As HAProxy 2.6 writes it (`/stats;csv`), with the columns cut after rtime for the test's sake.
const CSV = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,rtime
web,FRONTEND,,,8,10,20,100,OPEN,
app,be1,2,3,5,5,5,90,UP,40
app,be2,0,1,4,5,5,80,UP,60
app,BACKEND,2,3,9,10,2,170,UP,50
stats,FRONTEND,,,1,2,100,1,OPEN,
`

describe('haproxyLoad', () => {
  it('a frontend: current sessions ÷ its maxconn, with the backend\'s response time beside it', () => {
    expect(haproxyLoad(CSV, 'web')).toEqual({ ok: true, utilisation: 0.4, figures: { sessions: 8, limit: 20, queued: 0, responseMs: undefined } })
  })

  it('a backend: sessions plus queued requests ÷ the sum of its servers\' maxconn, at most 1', () => {
    expect(haproxyLoad(CSV, 'app')).toEqual({ ok: true, utilisation: 1, figures: { sessions: 9, limit: 10, queued: 2, responseMs: 50 } })
    expect(haproxyLoad(CSV.replace('app,BACKEND,2,3,9', 'app,BACKEND,0,3,5'), 'app')).toMatchObject({ ok: true, utilisation: 0.5 })
  })

  it('what is not there is a problem, never a number', () => {
    expect(haproxyLoad(CSV, 'nope')).toEqual({ ok: false, problem: "no frontend or backend named 'nope' in the stats" })
    expect(haproxyLoad('<html>login</html>', 'web')).toMatchObject({ ok: false, problem: expect.stringContaining('not HAProxy CSV') })
    expect(haproxyLoad(CSV.replace('web,FRONTEND,,,8,10,20', 'web,FRONTEND,,,8,10,'), 'web')).toEqual({ ok: false, problem: 'web FRONTEND has no session limit (set maxconn)' })
  })
})

describe('jsonLoad', () => {
  it.each([
    ['{"load": 0.25}', 'load', { ok: true, utilisation: 0.25 }],
    ['{"site": {"util": 1}}', 'site.util', { ok: true, utilisation: 1 }],
    ['{"load": 1.5}', 'load', { ok: false, problem: "'load' is 1.5, not a utilisation from 0 to 1" }],
    ['{"load": "0.5"}', 'load', { ok: false, problem: "no number at 'load'" }],
    ['{}', 'load', { ok: false, problem: "no number at 'load'" }],
    ['not json', 'load', { ok: false, problem: 'the reply is not JSON' }],
  ])('%s at %s', (text, field, expected) => {
    expect(jsonLoad(text, field)).toEqual(expected)
  })
})

describe('createLoadPoller', () => {
  it('starts with the readings of the poller before it (a reload never forgets a busy site), for the sites it still reads', () => {
    const target = { site: 'tokyo', signal: { type: 'http_json' as const, url: 'http://127.0.0.1:9/load', field: 'load' }, nodes: [], intervalMs: 60_000, timeoutMs: 100 }
    const kept = { last: { ok: true as const, utilisation: 0.95, at: 1, from: 'x' }, good: { ok: true as const, utilisation: 0.95, at: 1, from: 'x' } }
    const poller = createLoadPoller({ targets: [target], previous: new Map([['tokyo', kept], ['gone', kept]]), masterOf: () => undefined, latencyOf: () => undefined, onReading: () => undefined }, () => 0.5)
    expect([...poller.latest()]).toEqual([['tokyo', kept]])
    poller.stop()
  })
})
