// The OpenAPI document (/docs/json): every route the server has is in it, with the bearer scheme,
// the refusals each route can give and typed replies; and a standard linter (Redocly's, with its
// recommended rules) finds no error and no warning but the one that cannot apply.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildAdminApp } from '../../admin/app.ts'
import { fakeControl } from '../support/fake-control.ts'

type Operation = { operationId: string; summary: string; security: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } }

const app = buildAdminApp({ control: fakeControl(), maxConnections: 8, logger: pino({ level: 'silent' }) })
let doc: Doc

/** Every method and path the app routes (fastify's own table; HEAD is added by fastify for each GET). */
function routes(): string[] {
  const stack: string[] = []
  return app.printRoutes({ commonPrefix: false }).split('\n').flatMap((line) => {
    const match = /── (\S+) \(([A-Z, ]+)\)$/.exec(line)
    if (!match) return []
    stack.length = (line.indexOf('── ') - 1) / 4
    stack.push(match[1] as string)
    const path = stack.join('/').replace(/\/+/g, '/')
    return (match[2] as string).split(', ').filter((m) => m !== 'HEAD').map((method) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`)
  })
}

beforeAll(async () => {
  doc = (await app.inject({ url: '/docs/json' })).json() as Doc
})

describe('the OpenAPI document', () => {
  it('has every route the server has, and nothing else', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    const served = routes()
    expect(served.length).toBeGreaterThan(25)
    expect(new Set(documented)).toEqual(new Set(served))
    expect(served).toEqual(expect.arrayContaining(['GET /metrics', 'GET /v1/events', 'GET /docs/json', 'POST /v1/simulate', 'DELETE /v1/sites/{site}/weight']))
  })

  it('names the bearer scheme, and each operation the access and refusals it has', () => {
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) })
    const op = (method: string, path: string) => doc.paths[path]?.[method] as Operation
    expect(op('get', '/healthz').security).toEqual([])
    expect(op('get', '/v1/status').security).toEqual([{}, { bearerAuth: [] }])
    expect(Object.keys(op('get', '/v1/status').responses)).toEqual(['200', '401'])
    expect(op('put', '/v1/sites/{site}/state').security).toEqual([{ bearerAuth: [] }])
    expect(Object.keys(op('put', '/v1/sites/{site}/state').responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '503'])
    expect(Object.keys(op('post', '/v1/reload').responses).sort()).toEqual(['200', '401', '403', '422', '503'])
    expect(op('get', '/v1/events').responses['200']?.content).toHaveProperty(['text/event-stream'])
    expect(op('get', '/metrics').responses['200']?.content).toHaveProperty(['text/plain'])
    // Typed status models, not a bare object.
    expect(Object.keys(op('get', '/v1/status').responses['200']?.content?.['application/json']?.schema.properties ?? {})).toEqual(expect.arrayContaining(['generation', 'names', 'sites', 'servers', 'orphanedOverrides']))
    expect(new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId))).size).toBe(routes().length)
  })

  it('passes Redocly\'s lint with its recommended rules: no error, and no warning but a 4xx reply for the public routes that never refuse', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'signpost-openapi-')), 'openapi.json')
    writeFileSync(file, JSON.stringify(doc))
    let report: string
    try {
      report = execFileSync(process.execPath, [resolve('node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--format=json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (error) {
      report = (error as { stdout: string }).stdout
    }
    const problems = (JSON.parse(report.slice(report.indexOf('{'))) as { problems: { ruleId: string; severity: string; location: { pointer: string }[] }[] }).problems
    expect(problems.filter((p) => p.severity === 'error')).toEqual([])
    const warnings = problems.map((p) => `${p.ruleId} ${decodeURIComponent(p.location[0]?.pointer ?? '').replace(/~1/g, '/')}`)
    expect(warnings.sort()).toEqual([
      'operation-4xx-response #/paths//console/console.css/get/responses',
      'operation-4xx-response #/paths//console/main.ts/get/responses',
      'operation-4xx-response #/paths//console/view.ts/get/responses',
      'operation-4xx-response #/paths//docs/json/get/responses',
      'operation-4xx-response #/paths//healthz/get/responses',
      'operation-4xx-response #/paths///get/responses',
    ].sort())
  })
})
