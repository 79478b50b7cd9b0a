// The console's views, as pure functions from the API's replies to HTML text: no DOM, no fetch,
// so they run (and are tested) under Node as well as in the page. Every value from the server is
// escaped: a reason or a name can hold anything an operator typed.

import type { StatusView } from '../../server/state/control.ts'

type Site = StatusView['sites'][number]
type Server = StatusView['servers'][number]
type Name = StatusView['names'][number]

/** What the page filters on: text (site, address, name) and whether to show only what is not fine. */
export type Filter = { readonly text: string; readonly problemsOnly: boolean }

/** One line of the timeline: an event from the stream, or an audit entry from before the page opened. */
export type TimelineItem = { readonly at: string; readonly kind: string; readonly text: string; readonly severity: 'ok' | 'warn' | 'bad' | 'info' }

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Why a name answers what it does, in words. */
const MODES: Readonly<Record<string, string>> = {
  healthy: 'answering from healthy servers',
  'drain-only': 'only drained servers are left: they answer until something is up',
  'fail-open': 'nothing is healthy: answering every server not disabled (fail-open)',
  fallback: 'nothing is healthy: answering the fallback addresses',
  nodata: 'nothing to answer: NODATA',
  servfail: 'nothing to answer: SERVFAIL',
}

export function severityOfMode(mode: string): 'ok' | 'warn' | 'bad' {
  return mode === 'healthy' ? 'ok' : mode === 'drain-only' || mode === 'fallback' ? 'warn' : 'bad'
}

/** A site's overall state: bad when no VIP is up, warn when degraded (a VIP down, an LB node failed, an override, load shed). */
export function siteSeverity(site: Site, servers: readonly Server[]): 'ok' | 'warn' | 'bad' {
  const mine = servers.filter((s) => s.site === site.name)
  if (site.lbPair.down || (mine.length > 0 && mine.every((s) => s.eligibility === 'out'))) return 'bad'
  if (site.admin || site.lbPair.degraded || mine.some((s) => s.eligibility !== 'in') || (site.load?.shedding.length ?? 0) > 0) return 'warn'
  return 'ok'
}

function matches(filter: Filter, ...texts: readonly string[]): boolean {
  const wanted = filter.text.trim().toLowerCase()
  return wanted === '' || texts.some((t) => t.toLowerCase().includes(wanted))
}

const when = (ms: number | string | null | undefined): string => (ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'))

/** Who set an override, why and until when. */
function overrideText(record: { state: string; weight?: number | undefined; actor: string; reason: string; until?: string | undefined; at: string } | null | undefined): string {
  if (!record) return ''
  const what = [record.state !== 'enabled' ? record.state : '', record.weight !== undefined ? `weight ${record.weight}` : ''].filter(Boolean).join(', ') || 'enabled'
  return `<span class="override">${esc(what)} by ${esc(record.actor)}: “${esc(record.reason)}”${record.until ? ` until <time>${esc(when(record.until))}</time>` : ''}</span>`
}

const actionButtons = (target: string): string =>
  ['drain', 'disable', 'enable', 'up', 'weight', 'clear'].map((action) => `<button type="button" class="action" data-action="${action}" data-target="${esc(target)}">${action}</button>`).join('')

function serverRow(server: Server): string {
  const probe = server.lastProbe as { ok?: boolean; ms?: number; detail?: string } | null
  const last = probe ? (probe.ok ? `ok in ${esc(probe.ms ?? '?')} ms` : `failed: ${esc(probe.detail ?? '?')}`) : 'not probed'
  const latest = server.transitions.at(-1) as { to: string; reason: string; at: number } | undefined
  const since = latest ? ` · ${esc(latest.to)} since <time>${esc(when(latest.at))}</time> (${esc(latest.reason)})` : ''
  return `<tr class="server ${server.eligibility === 'in' ? 'ok' : server.eligibility === 'drain' ? 'warn' : 'bad'}" data-address="${esc(server.address)}">
<td class="address">${esc(server.address)}</td><td><span class="badge ${server.health === 'down' ? 'bad' : 'ok'}">${esc(server.health)}</span></td>
<td><span class="badge">${esc(server.eligibility)}</span> ${overrideText(server.admin.own)}</td><td class="probe">${last}${since}</td><td class="actions">${actionButtons(server.address)}</td></tr>`
}

/** Sites, each a collapsible group of its servers: readable at 1,000 servers. `open`: the sites whose group is expanded. */
export function sitesHtml(status: StatusView, filter: Filter, open: ReadonlySet<string>): string {
  const cards = status.sites.flatMap((site) => {
    const severity = siteSeverity(site, status.servers)
    const servers = status.servers.filter((s) => s.site === site.name)
    const shown = servers.filter((s) => matches(filter, site.name, s.address) && (!filter.problemsOnly || s.eligibility !== 'in'))
    if ((filter.problemsOnly && severity === 'ok') || (shown.length === 0 && !matches(filter, site.name))) return []
    const up = servers.filter((s) => s.eligibility === 'in').length
    const nodes = site.lbPair.nodes.map((n) => `<span class="node badge ${n.probe === 'down' || n.keepalived === 'FAULT' || n.keepalived === 'STOP' ? 'bad' : 'ok'}">${esc(n.name)} ${esc(n.probe)}${n.keepalived ? ` · ${esc(n.keepalived)}` : ''}</span>`).join(' ')
    const load = site.load ? `<span class="load">load ${site.load.utilisation === null ? 'unknown' : `${Math.round(site.load.utilisation * 100)}%`}${site.load.stale ? ' (stale)' : ''}${site.load.shedding.length > 0 ? ` · shedding for ${esc(site.load.shedding.join(', '))}` : ''}</span>` : ''
    return [`<details class="site ${severity}" data-site="${esc(site.name)}"${open.has(site.name) || filter.text.trim() !== '' ? ' open' : ''}>
<summary><span class="dot ${severity}"></span><strong>${esc(site.name)}</strong> <span class="count">${up}/${servers.length} in</span> ${nodes} ${load} ${overrideText(site.admin)}
<span class="actions">${actionButtons(`site:${site.name}`)}</span></summary>
<table><thead><tr><th>server</th><th>health</th><th>state</th><th>last probe</th><th></th></tr></thead><tbody>${shown.map(serverRow).join('')}</tbody></table></details>`]
  })
  return cards.length > 0 ? cards.join('\n') : '<p class="empty">No site matches the filter.</p>'
}

/** Every GSLB name: what it answers now and why, per family. */
export function namesHtml(status: StatusView, filter: Filter): string {
  const siteOf = new Map(status.servers.map((s) => [s.address, s.site]))
  const family = (label: string, table: Name['v4']): string => {
    if (!table) return ''
    const answering = table.answering.map((a) => `${esc(a)} <span class="site-name">${esc(siteOf.get(a) ?? '')}</span>`).join(', ') || '—'
    return `<div class="family"><span class="badge ${severityOfMode(table.reason)}">${label} ${esc(table.reason)}</span> <span class="mode">${esc(MODES[table.reason] ?? table.reason)}</span><div class="answering">${answering}${table.shed.length > 0 ? ` · shed: ${esc(table.shed.join(', '))}` : ''}</div></div>`
  }
  const rows = status.names.filter((n) => matches(filter, n.name, ...n.servers.map((s) => s.site)) && (!filter.problemsOnly || [n.v4, n.v6].some((t) => t && t.reason !== 'healthy')))
  return rows.length > 0
    ? rows.map((n) => `<div class="name" data-name="${esc(n.name)}"><div><strong>${esc(n.name)}</strong> <span class="policy">${esc(n.policy)}${n.load !== 'off' ? ` · load ${esc(n.load)}` : ''} · TTL ${esc(n.ttl)}</span></div>${family('A', n.v4)}${family('AAAA', n.v6)}</div>`).join('\n')
    : '<p class="empty">No name matches the filter.</p>'
}

/** One stream event (or audit entry) as a timeline line. */
export function timelineItem(type: string, event: Record<string, unknown>): TimelineItem {
  const at = String(event['at'] ?? new Date().toISOString())
  switch (type) {
    case 'health': {
      const to = String(event['to'] ?? '')
      const what = event['target'] === 'lb-node' || event['node'] ? `LB node ${String(event['site'] ?? '')}/${String(event['node'] ?? '')}` : `server ${String(event['address'] ?? '')} (${String(event['site'] ?? '')})`
      return { at, kind: 'health', severity: to === 'up' ? 'ok' : 'bad', text: `${what} ${String(event['from'] ?? '')} → ${to}${event['reason'] ? `: ${String(event['reason'])}` : ''}` }
    }
    case 'admin': {
      const target = event['target'] as { kind: string; address?: string; site?: string } | undefined
      const record = event['record'] as { state: string; weight?: number; until?: string } | null
      const what = record ? `${record.state}${record.weight !== undefined ? `, weight ${record.weight}` : ''}${record.until ? ` until ${when(record.until)}` : ''}` : 'override cleared'
      return { at, kind: 'operator', severity: 'info', text: `${target?.kind ?? ''} ${target?.address ?? target?.site ?? ''}: ${what} by ${String(event['actor'] ?? event['instance'] ?? '')} (“${String(event['reason'] ?? '')}”)` }
    }
    case 'audit': {
      const to = event['to'] as { state?: string; weight?: number; until?: string } | null
      const what = to ? `${to.state ?? ''}${to.weight !== undefined ? `, weight ${to.weight}` : ''}${to.until ? ` until ${when(to.until)}` : ''}` : 'override cleared'
      return { at, kind: 'operator', severity: 'info', text: `${String(event['target'] ?? '')}: ${what} by ${String(event['actor'] ?? '')} (“${String(event['reason'] ?? '')}”)` }
    }
    case 'lb':
      return { at, kind: 'keepalived', severity: event['state'] === 'FAULT' || event['state'] === 'STOP' ? 'bad' : 'info', text: `${String(event['site'] ?? '')}/${String(event['node'] ?? '')} ${String(event['state'] ?? '')}` }
    case 'reload':
      return { at, kind: 'reload', severity: 'info', text: `reloaded: ${((event['zones'] as { name: string; serial: number }[] | undefined) ?? []).map((z) => `${z.name} ${z.serial}`).join(', ')}` }
    case 'mode': {
      const to = String(event['reason'] ?? '')
      return { at, kind: 'answers', severity: severityOfMode(to), text: `${String(event['name'] ?? '')} ${event['family'] === 'v6' ? 'AAAA' : 'A'}: ${String(event['from'] ?? 'new')} → ${to}${MODES[to] ? ` (${MODES[to]})` : ''}` }
    }
    case 'reload-rejected':
      return { at, kind: 'reload', severity: 'bad', text: `reload rejected, nothing changed: ${((event['problems'] as string[] | undefined) ?? []).join('; ')}` }
    case 'gap':
      return { at, kind: 'stream', severity: 'warn', text: 'some events were missed while the stream was away; the page read the status again' }
    case 'load':
      return { at, kind: 'load', severity: 'warn', text: `${String(event['site'] ?? event['name'] ?? '')} ${JSON.stringify(event)}` }
    default:
      return { at, kind: type, severity: 'info', text: JSON.stringify(event) }
  }
}

export function timelineHtml(items: readonly TimelineItem[]): string {
  if (items.length === 0) return '<li class="empty">Nothing has happened since the page opened.</li>'
  return [...items].reverse().map((i) => `<li class="${i.severity}"><time>${esc(when(i.at))}</time> <span class="kind">${esc(i.kind)}</span> ${esc(i.text)}</li>`).join('\n')
}

/** Answers per site from the Prometheus text: the sum of signpost_gslb_server_answers_total over each site's servers. */
export function siteAnswerTotals(metricsText: string): Map<string, number> {
  const totals = new Map<string, number>()
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('signpost_gslb_server_answers_total{')) continue
    const site = /site="((?:[^"\\]|\\.)*)"/.exec(line)?.[1]
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (site !== undefined && Number.isFinite(value)) totals.set(site, (totals.get(site) ?? 0) + value)
  }
  return totals
}

/** One point of the chart: when, and each site's share (0-1) of the answers since the point before. */
export type SharePoint = { readonly at: number; readonly shares: ReadonlyMap<string, number> }

/** The share of answers each site got between two readings of the totals; undefined when none were given. */
export function sharesBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, at: number): SharePoint | undefined {
  const deltas = [...after].map(([site, total]) => [site, Math.max(0, total - (before.get(site) ?? 0))] as const)
  const sum = deltas.reduce((s, [, d]) => s + d, 0)
  return sum > 0 ? { at, shares: new Map(deltas.map(([site, d]) => [site, d / sum])) } : undefined
}

const PALETTE = ['#2f6fdf', '#e0892b', '#3aa35b', '#b44bc2', '#d64545', '#1ea3a3', '#8a8a2e', '#6b6bd6']

/** A site's colour: the same for a name wherever it is drawn. */
export function colourOf(site: string, sites: readonly string[]): string {
  const index = sites.indexOf(site)
  return PALETTE[(index < 0 ? 0 : index) % PALETTE.length] as string
}

/** Answer shares over time as stacked bars (one per reading, `slots` across), newest on the right, with a legend. */
export function sharesChartSvg(points: readonly SharePoint[], sites: readonly string[], slots: number): string {
  const width = 600
  const height = 120
  if (points.length === 0) return '<p class="empty">No GSLB answers yet: the chart fills as queries arrive (one bar per 5 s).</p>'
  const slot = width / Math.max(points.length, slots)
  const bars = points.map((point, i) => {
    let y = height
    return sites.map((site) => {
      const share = point.shares.get(site) ?? 0
      const h = share * height
      y -= h
      return h > 0 ? `<rect x="${(i * slot).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(slot - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colourOf(site, sites)}"><title>${esc(site)} ${Math.round(share * 100)}%</title></rect>` : ''
    }).join('')
  }).join('')
  const last = points.at(-1) as SharePoint
  const legend = sites.map((site) => `<span class="legend"><svg width="10" height="10"><rect width="10" height="10" fill="${colourOf(site, sites)}"/></svg> ${esc(site)} ${Math.round((last.shares.get(site) ?? 0) * 100)}%</span>`).join(' ')
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="answer shares per site">${bars}</svg><div class="legends">${legend}</div>`
}

/** Shares as one horizontal bar (for a what-if's before and after). */
function shareBar(shares: Readonly<Record<string, number>>, sites: readonly string[]): string {
  let x = 0
  const parts = Object.entries(shares).map(([site, share]) => {
    const rect = `<rect x="${(x * 200).toFixed(1)}" width="${(share * 200).toFixed(1)}" height="12" fill="${colourOf(site, sites)}"><title>${esc(site)} ${Math.round(share * 100)}%</title></rect>`
    x += share
    return rect
  }).join('')
  const words = Object.entries(shares).map(([site, share]) => `${esc(site)} ${Math.round(share * 100)}%`).join(', ') || 'nothing'
  return `<svg class="bar" width="200" height="12">${parts}</svg> <span class="shares">${words}</span>`
}

type FamilyWhatIf = { changed: boolean; before: { mode: string; world: Record<string, number>; continents: Record<string, Record<string, number>> }; after: { mode: string; world: Record<string, number>; continents: Record<string, Record<string, number>> }; countries: Record<string, { before: Record<string, number>; after: Record<string, number> }> }
/** What POST /v1/simulate returns, as far as the page reads it. */
export type Simulation = {
  population: { by: string; networks: number; addresses: number }
  guard: { refused: boolean; names: string[] }
  falls: { name: string; type: string; from: string; to: string }[]
  names: ({ name: string; policy: string } & Partial<Record<'A' | 'AAAA', FamilyWhatIf>>)[]
}

/** The what-if shown before an action is confirmed: which names fall, the guard rail, and each changed name's shares before → after. */
export function whatIfHtml(simulation: Simulation, sites: readonly string[]): string {
  const falls = simulation.falls.map((f) => `<li class="bad">${esc(f.name)} ${esc(f.type)}: ${esc(f.from)} → <strong>${esc(f.to)}</strong></li>`).join('')
  const guard = simulation.guard.refused
    ? `<p class="guard bad">The guard rail refuses this: it leaves ${esc(simulation.guard.names.join(', '))} with no server. Tick “force” to do it anyway.</p>`
    : ''
  const changed = simulation.names.flatMap((n) => (['A', 'AAAA'] as const).flatMap((type) => {
    const f = n[type]
    if (!f?.changed) return []
    const continents = [...new Set([...Object.keys(f.before.continents), ...Object.keys(f.after.continents)])].sort()
      .filter((c) => JSON.stringify(f.before.continents[c]) !== JSON.stringify(f.after.continents[c]))
      .map((c) => `<tr><td>${esc(c)}</td><td>${shareBar(f.before.continents[c] ?? {}, sites)}</td><td>${shareBar(f.after.continents[c] ?? {}, sites)}</td></tr>`).join('')
    const countries = Object.keys(f.countries).length
    return [`<div class="whatif-name"><strong>${esc(n.name)} ${type}</strong> (${esc(n.policy)}): ${esc(f.before.mode)} → ${esc(f.after.mode)}
<table><thead><tr><th></th><th>before</th><th>after</th></tr></thead><tbody><tr><td>world</td><td>${shareBar(f.before.world, sites)}</td><td>${shareBar(f.after.world, sites)}</td></tr>${continents}</tbody></table>
${countries > 0 ? `<p class="countries">${countries} ${countries === 1 ? 'country changes' : 'countries change'}: ${esc(Object.keys(f.countries).join(', '))}</p>` : ''}</div>`]
  }))
  return `${guard}${falls ? `<ul class="falls">${falls}</ul>` : ''}${changed.length > 0 ? changed.join('') : '<p>No GSLB answer changes.</p>'}<p class="population">Clients weighted by ${esc(simulation.population.by)} (${esc(simulation.population.networks)} networks).</p>`
}
