// The console's pure views: what an operator typed is escaped wherever it is shown, the filter
// finds a server among many, and the answer-share chart reads the counters /metrics already has.

import { describe, expect, it } from 'vitest'
import type { StatusView } from '../../server/state/control.ts'
import { esc, namesHtml, sharesBetween, siteAnswerTotals, sitesHtml, timelineHtml, timelineItem } from '../../admin/console/view.ts'

const record = { state: 'drain' as const, weight: undefined, reason: '<img src=x onerror=alert(1)>', actor: 'alice (operate)', at: '2026-12-02T00:00:00.000Z', until: '2026-12-02T01:00:00.000Z' }
const server = (address: string, site: string, eligibility: 'in' | 'drain' | 'out') => ({
  address, site, health: eligibility === 'out' ? 'down' : 'up', admin: { state: 'enabled', own: null }, eligibility,
  lastProbe: eligibility === 'out' ? { ok: false, detail: 'http ECONNREFUSED' } : { ok: true, ms: 2 }, latencyMs: 2, lastChange: 0, transitions: [],
})
const STATUS = {
  generation: 7,
  names: [{ name: 'www.example.com.', policy: 'weighted', load: 'off', ttl: 30, maxAnswers: 1, v4: { reason: 'fail-open', answering: ['192.0.2.1'], shed: [] }, v6: null, servers: [] }],
  sites: ['tokyo', 'osaka'].map((name) => ({ name, location: null, admin: name === 'osaka' ? record : null, vips: [], lbPair: { degraded: false, down: false, nodes: [] }, load: null })),
  servers: [server('192.0.2.1', 'tokyo', 'out'), server('192.0.2.2', 'osaka', 'drain'), ...Array.from({ length: 998 }, (_, i) => server(`10.0.${Math.floor(i / 250)}.${i % 250}`, i % 2 ? 'tokyo' : 'osaka', 'in'))],
  orphanedOverrides: [],
} as unknown as StatusView

describe('console views', () => {
  it('escapes what an operator typed: a reason is text, never markup', () => {
    const html = sitesHtml(STATUS, { text: '', problemsOnly: false }, new Set())
    expect(html).not.toContain('<img')
    expect(html).toContain(esc(record.reason))
    expect(timelineHtml([timelineItem('admin', { at: record.at, target: { kind: 'site', site: 'osaka' }, record, actor: 'alice', reason: '<b>x</b>' })])).not.toContain('<b>')
  })

  it('groups by site, collapsed unless opened; the filter opens the one site holding the address', () => {
    const all = sitesHtml(STATUS, { text: '', problemsOnly: false }, new Set(['osaka']))
    expect(all.match(/<details/g)).toHaveLength(2)
    expect(all).toMatch(/data-site="osaka" open/)
    expect(all).not.toMatch(/data-site="tokyo" open/)
    const one = sitesHtml(STATUS, { text: '10.0.2.249', problemsOnly: false }, new Set())
    expect(one.match(/<tr class="server/g)).toHaveLength(1)
    expect(one).toMatch(/data-site="tokyo" open/)
    const problems = sitesHtml(STATUS, { text: '', problemsOnly: true }, new Set())
    expect(problems.match(/<tr class="server/g)).toHaveLength(2)
  })

  it('says why a name answers what it does', () => {
    expect(namesHtml(STATUS, { text: '', problemsOnly: false })).toContain('nothing is healthy: answering every server not disabled (fail-open)')
  })

  it('answer shares per site from the Prometheus counters, between two readings', () => {
    const text = (a: number, b: number, c: number) => `# TYPE signpost_gslb_server_answers_total counter
signpost_gslb_server_answers_total{address="192.0.2.1",site="tokyo"} ${a}
signpost_gslb_server_answers_total{address="192.0.2.3",site="tokyo"} ${b}
signpost_gslb_server_answers_total{address="192.0.2.2",site="osaka"} ${c}
signpost_dns_queries_total{transport="udp",rcode="NOERROR",qtype="A"} 999
`
    const before = siteAnswerTotals(text(10, 0, 10))
    expect(before).toEqual(new Map([['tokyo', 10], ['osaka', 10]]))
    expect(sharesBetween(before, siteAnswerTotals(text(40, 20, 40)), 1)?.shares).toEqual(new Map([['tokyo', 0.625], ['osaka', 0.375]]))
    expect(sharesBetween(before, before, 2)).toBeUndefined()
  })
})
