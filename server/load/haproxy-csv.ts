// HAProxy's stats in CSV (`/stats;csv`, or `show stat` on the stats socket) → a proxy's
// utilisation, pure. The proxy's FRONTEND row if it has one, else its BACKEND row; utilisation is
// (current sessions + queued requests) ÷ the session limit, at most 1: queued requests are demand
// the proxy could not take. For a backend the limit is the sum of its servers' maxconn when every
// server has one (HAProxy's own backend slim is a fullconn estimate). Response time is the
// backend's average over its last 1,024 requests.

import type { HaproxyFigures } from './types.ts'

export type HaproxyLoad = { readonly ok: true; readonly utilisation: number; readonly figures: HaproxyFigures } | { readonly ok: false; readonly problem: string }

export function parseStatsCsv(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const header = lines[0]
  if (!header?.startsWith('# ')) return []
  const columns = header.slice(2).split(',')
  return lines.slice(1).map((line) => {
    const cells = line.split(',')
    return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']))
  })
}

const number = (cell: string | undefined): number | undefined => (cell === undefined || cell === '' ? undefined : Number.isFinite(Number(cell)) ? Number(cell) : undefined)

export function haproxyLoad(text: string, proxy: string): HaproxyLoad {
  const rows = parseStatsCsv(text)
  if (rows.length === 0) return { ok: false, problem: 'not HAProxy CSV stats (no "# pxname,…" header)' }
  const ofProxy = rows.filter((r) => r['pxname'] === proxy)
  const row = ofProxy.find((r) => r['svname'] === 'FRONTEND') ?? ofProxy.find((r) => r['svname'] === 'BACKEND')
  if (!row) return { ok: false, problem: `no frontend or backend named '${proxy}' in the stats` }
  const servers = ofProxy.filter((r) => r['svname'] !== 'FRONTEND' && r['svname'] !== 'BACKEND')
  const serverLimits = servers.map((r) => number(r['slim']))
  const limit = row['svname'] === 'BACKEND' && servers.length > 0 && serverLimits.every((l) => l !== undefined && l > 0) ? serverLimits.reduce<number>((a, b) => a + (b ?? 0), 0) : number(row['slim'])
  const sessions = number(row['scur'])
  if (limit === undefined || limit <= 0) return { ok: false, problem: `${proxy} ${row['svname']} has no session limit (set maxconn)` }
  if (sessions === undefined) return { ok: false, problem: `${proxy} ${row['svname']} has no current sessions figure` }
  const queued = number(row['qcur']) ?? 0
  const backend = ofProxy.find((r) => r['svname'] === 'BACKEND') ?? rows.find((r) => r['svname'] === 'BACKEND' && r['pxname'] === row['pxname'])
  const responseMs = number(backend?.['rtime'])
  return { ok: true, utilisation: Math.min(1, (sessions + queued) / limit), figures: { sessions, limit, queued, responseMs } }
}
