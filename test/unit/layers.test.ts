// The layering rules of server/README.md, checked from the imports of every file in server/ and
// admin/: which folder may import which, no import loop, admin/ only through the control plane,
// and start.ts kept small. A rule broken here names the file and the import that break it.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/** What each folder may import from (besides itself): the layers, lowest first. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'server/common': [],
  'server/dns': [],
  'server/dns/wire': ['server/dns'],
  'server/config': ['server/common'],
  'server/zone': ['server/common', 'server/dns'],
  'server/geo': ['server/dns'],
  'server/abuse': ['server/common', 'server/config', 'server/dns'],
  'server/dnssec': ['server/common', 'server/config', 'server/dns', 'server/zone'],
  'server/gslb': ['server/common', 'server/config', 'server/dns', 'server/geo', 'server/zone'],
  'server/health/probes': [],
  'server/health': ['server/config', 'server/health/probes'],
  'server/query': ['server/abuse', 'server/dns', 'server/dnssec', 'server/geo', 'server/gslb', 'server/zone'],
  'server/metrics': ['server/abuse', 'server/dns', 'server/gslb', 'server/health', 'server/health/probes', 'server/query'],
  'server/net': ['server/abuse', 'server/common', 'server/dns', 'server/dns/wire', 'server/dnssec', 'server/geo', 'server/gslb', 'server/metrics', 'server/query', 'server/zone'],
  'server/fleet': ['server/common', 'server/config'],
  'server/load': ['server/common', 'server/config'],
  'server/state': ['server/abuse', 'server/common', 'server/config', 'server/dns', 'server/dns/wire', 'server/dnssec', 'server/fleet', 'server/geo', 'server/gslb', 'server/health', 'server/health/probes', 'server/load', 'server/metrics', 'server/query', 'server/zone'],
  admin: ['server/state'],
  // The console page: run by the browser, so it may name the control plane's types and nothing else of the server.
  'admin/console': ['server/state'],
  // The entry points (main, start, check, log) wire everything together.
  server: ['admin', 'server/common', 'server/config', 'server/dns', 'server/dnssec', 'server/gslb', 'server/health', 'server/load', 'server/metrics', 'server/net', 'server/query', 'server/state'],
}

type Edge = { readonly from: string; readonly to: string; readonly typeOnly: boolean; readonly text: string }

const ROOT = resolve(import.meta.dirname, '../..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

const FILES = ['server', 'admin'].flatMap((dir) => sourceFiles(join(ROOT, dir))).map((path) => relative(ROOT, path))

/** Every relative import of a file: import/export … from, and a worker thread's entry (new URL(…, import.meta.url)). */
function importsOf(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const edges: Edge[] = []
  const add = (spec: string, typeOnly: boolean, statement: string): void => {
    if (spec.startsWith('.')) edges.push({ from: file, to: relative(ROOT, resolve(ROOT, dirname(file), spec)), typeOnly, text: statement.replace(/\s+/g, ' ') })
  }
  // `import type` and `export type … from` are erased; `import { type A }` still loads the module.
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?(?:[\w*$\s{},]+?\s+from\s+)?'([^']+)'/gm)) add(m[3] as string, m[2] !== undefined, m[0])
  for (const m of text.matchAll(/new URL\(\s*'([^']+\.ts)'\s*,\s*import\.meta\.url\s*\)/g)) add(m[1] as string, false, m[0])
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) add(m[1] as string, false, m[0])
  return edges
}

const EDGES = FILES.flatMap(importsOf)
const folderOf = (file: string): string => dirname(file)
const describeEdge = (e: Edge): string => `${e.from}: ${e.text}`

describe('layers (server/README.md)', () => {
  it('every file imports only files that exist', () => {
    expect(EDGES.filter((e) => !FILES.includes(e.to)).map(describeEdge)).toEqual([])
  })

  it('every folder is a layer, and imports only the layers below it', () => {
    expect([...new Set(FILES.map(folderOf))].filter((folder) => !(folder in MAY_IMPORT))).toEqual([])
    const wrong = EDGES.filter((e) => folderOf(e.from) !== folderOf(e.to) && !MAY_IMPORT[folderOf(e.from)]?.includes(folderOf(e.to)))
    expect(wrong.map(describeEdge)).toEqual([])
  })

  it('no two folders import each other, type-only imports counted (the layers form no loop)', () => {
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      (MAY_IMPORT[from] ?? []).some((next) => next === to || (!seen.has(next) && (seen.add(next), reaches(next, to, seen))))
    expect(Object.keys(MAY_IMPORT).filter((folder) => reaches(folder, folder))).toEqual([])
  })

  it('no import loop among value imports', () => {
    const next = new Map<string, string[]>()
    for (const e of EDGES) if (!e.typeOnly) next.set(e.from, [...(next.get(e.from) ?? []), e.to])
    const loops: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open')
      for (const to of next.get(file) ?? []) {
        if (state.get(to) === 'open') loops.push([...path.slice(path.indexOf(to)), file, to].join(' → '))
        else if (!state.has(to)) visit(to, [...path, file])
      }
      state.set(file, 'done')
    }
    for (const file of FILES) if (!state.has(file)) visit(file, [])
    expect(loops).toEqual([])
  })

  it('admin/ imports from server/ only the control plane (values and types), and nothing from server/start.ts', () => {
    const intoServer = EDGES.filter((e) => e.from.startsWith('admin/') && e.to.startsWith('server/'))
    expect(intoServer.length).toBeGreaterThan(0)
    expect(intoServer.filter((e) => e.to !== 'server/state/control.ts').map(describeEdge)).toEqual([])
  })

  it("the console's page imports from server/ only types: a browser loads no server module", () => {
    expect(EDGES.filter((e) => e.from.startsWith('admin/console/') && e.to.startsWith('server/') && !e.typeOnly).map(describeEdge)).toEqual([])
  })

  it('the wire codec imports nothing from state, gslb, health, net, query or admin', () => {
    const banned = /^(server\/(state|gslb|health|net|query)|admin)\//
    expect(EDGES.filter((e) => e.from.startsWith('server/dns/') && banned.test(e.to)).map(describeEdge)).toEqual([])
  })

  it('gslb/ imports nothing from net, health, state or admin; health/ nothing from query, gslb or admin', () => {
    const gslb = EDGES.filter((e) => e.from.startsWith('server/gslb/') && /^(server\/(net|health|state)|admin)\//.test(e.to))
    const health = EDGES.filter((e) => e.from.startsWith('server/health/') && /^(server\/(query|gslb)|admin)\//.test(e.to))
    expect([...gslb, ...health].map(describeEdge)).toEqual([])
  })

  it('server/start.ts stays at most 150 lines', () => {
    expect(readFileSync(join(ROOT, 'server/start.ts'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(150)
  })
})
