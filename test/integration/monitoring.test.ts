// The monitoring that ships in examples/: the Prometheus alerting rules pass `promtool check rules`
// and their own `promtool test rules` cases, and every metric the rules and the Grafana dashboard
// use is one a running server exposes (so neither can drift from /metrics by a rename).

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { startTestServer } from '../support/server.ts'

const TOKEN = 'monitoring-token'
let server: Awaited<ReturnType<typeof startTestServer>>
let families: Set<string>

/** Metric names an expression uses, as families (a histogram's _bucket, _sum and _count are its family). */
function metricsUsed(text: string): Set<string> {
  return new Set([...text.matchAll(/\b((?:signpost|process|nodejs)_[a-z_]+)\b/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, '')))
}

beforeAll(async () => {
  server = await startTestServer('test/fixtures/gslb', { configFile: resolve('test/fixtures/gslb/signpost.yaml'), adminToken: TOKEN, workers: 1 })
  const write = (method: string, path: string, body?: unknown) => fetch(`http://${server.adminAddress}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
  // Something for every gauge to show: an override, a keepalived event, a reload, queries.
  expect((await write('PUT', '/v1/sites/osaka/weight', { weight: 2, reason: 'monitoring test' })).status).toBe(200)
  expect((await write('POST', '/v1/lb-events', { site: 'tokyo', node: 'tokyo-lb1', state: 'MASTER' })).status).toBe(200)
  expect((await write('POST', '/v1/reload')).status).toBe(200)
  await dig(server.port, Array.from({ length: 130 }, () => ['www.gslb.test', 'A']).flat())
  const text = await (await fetch(`http://${server.adminAddress}/metrics`)).text()
  families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string))
})
afterAll(async () => {
  await server?.close()
})

describe('examples/ monitoring', () => {
  it('the alerting rules pass promtool check rules and promtool test rules', () => {
    const check = spawnSync('promtool', ['check', 'rules', 'examples/prometheus-rules.yml'], { encoding: 'utf8' })
    expect(check.stdout + check.stderr).toContain('SUCCESS: 12 rules found')
    expect(check.status).toBe(0)
    const test = spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: 'test/fixtures/monitoring', encoding: 'utf8' })
    expect(test.stdout + test.stderr).toContain('SUCCESS')
    expect(test.status).toBe(0)
  })

  it.each(['examples/prometheus-rules.yml', 'examples/grafana-dashboard.json'])('%s uses only metrics the server exposes', (file) => {
    const used = metricsUsed(readFileSync(file, 'utf8'))
    expect(used.size).toBeGreaterThan(5)
    // The fleet's gauges exist only with a cluster section (tested in fleet.test.ts).
    const missing = [...used].filter((name) => !families.has(name) && !name.startsWith('signpost_fleet_'))
    expect(missing).toEqual([])
  })

  it('the dashboard is Grafana JSON whose every panel has a query', () => {
    const dashboard = JSON.parse(readFileSync('examples/grafana-dashboard.json', 'utf8')) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] }
    expect(dashboard.uid).toBe('signpost')
    for (const panel of dashboard.panels) expect({ panel: panel.title, queries: panel.targets.filter((t) => t.expr.length > 0).length > 0 }).toEqual({ panel: panel.title, queries: true })
  })
})
