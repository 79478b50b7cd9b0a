// The console page: one status read per change the event stream announces (never a request per
// server), the answer-share chart from /metrics every 5 s, and the operator's actions with their
// what-if shown before they are confirmed. The token lives in this tab's sessionStorage and goes
// out only as an Authorization header: never in a URL. EventSource cannot send a header, so the
// stream is read through fetch.

import type { StatusView } from '../../server/state/control.ts'
import { namesHtml, sharesBetween, sharesChartSvg, siteAnswerTotals, sitesHtml, timelineHtml, timelineItem, whatIfHtml, type Filter, type SharePoint, type Simulation, type TimelineItem } from './view.ts'

const TOKEN_KEY = 'signpost-token'
const CHART_EVERY_MS = 5000
const CHART_POINTS = 120
const TIMELINE_ITEMS = 300

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T

let status: StatusView | undefined
let filter: Filter = { text: '', problemsOnly: false }
const openSites = new Set<string>()
const timeline: TimelineItem[] = []
const points: SharePoint[] = []
let lastTotals: Map<string, number> | undefined

const token = (): string | null => sessionStorage.getItem(TOKEN_KEY)

class Unauthorised extends Error {}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {}
  const bearer = token()
  if (bearer) headers['authorization'] = `Bearer ${bearer}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const reply = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  if (reply.status === 401) throw new Unauthorised((await reply.json().catch(() => ({}))).error ?? 'a token is needed')
  const type = reply.headers.get('content-type') ?? ''
  return { status: reply.status, json: type.includes('json') ? await reply.json() : await reply.text() }
}

function askForToken(message: string): void {
  $('#login-message').textContent = message
  $<HTMLDialogElement>('#login').showModal()
}

function render(): void {
  if (!status) return
  $('#names').innerHTML = namesHtml(status, filter)
  $('#sites').innerHTML = sitesHtml(status, filter, openSites)
  const down = status.servers.filter((s) => s.eligibility !== 'in').length
  $('#summary').textContent = `${status.sites.length} sites · ${status.servers.length} servers (${down} not in) · ${status.names.length} names · generation ${status.generation}`
}

// Status is read once per burst of events: at most one request in flight, one more queued.
let reading: Promise<void> | undefined
let again = false
function refresh(): void {
  if (reading) {
    again = true
    return
  }
  reading = (async () => {
    try {
      status = (await api('GET', '/v1/status')).json as StatusView
      render()
    } catch (error) {
      if (error instanceof Unauthorised) askForToken(`This server protects its reads: ${error.message}.`)
    } finally {
      reading = undefined
      if (again) {
        again = false
        refresh()
      }
    }
  })()
}

function addToTimeline(item: TimelineItem): void {
  timeline.push(item)
  if (timeline.length > TIMELINE_ITEMS) timeline.splice(0, timeline.length - TIMELINE_ITEMS)
  $('#timeline').innerHTML = timelineHtml(timeline)
}

function setLive(live: boolean, message: string): void {
  const banner = $('#stream')
  banner.className = live ? 'live' : 'lost'
  banner.textContent = message
}

/** Reads the event stream until it ends, then says so and tries again in 2 s, from the last event seen (Last-Event-ID). */
async function follow(): Promise<void> {
  let lastEventId: string | undefined
  for (;;) {
    try {
      const headers: Record<string, string> = {}
      const bearer = token()
      if (bearer) headers['authorization'] = `Bearer ${bearer}`
      if (lastEventId) headers['last-event-id'] = lastEventId
      const reply = await fetch('/v1/events', { headers })
      if (reply.status === 401) {
        setLive(false, 'Not live: this server needs a token to read.')
        askForToken('This server protects its reads: give a token with the read role or more.')
        await new Promise((resolve) => $('#login').addEventListener('close', resolve, { once: true }))
        continue
      }
      if (!reply.ok || !reply.body) throw new Error(`the event stream answered ${reply.status}`)
      setLive(true, 'Live')
      refresh()
      const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffered = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffered += value
        let end: number
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          lastEventId = /^id: (.*)$/m.exec(block)?.[1] ?? lastEventId
          if (!type || !data) continue
          addToTimeline(timelineItem(type, JSON.parse(data) as Record<string, unknown>))
          refresh()
        }
      }
      throw new Error('the server closed the event stream')
    } catch (error) {
      setLive(false, `Not live: ${(error as Error).message}. What you see may be old; reconnecting every 2 s…`)
    }
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
}

async function sampleShares(): Promise<void> {
  try {
    const totals = siteAnswerTotals((await api('GET', '/metrics')).json as string)
    const point = lastTotals ? sharesBetween(lastTotals, totals, Date.now()) : undefined
    lastTotals = totals
    if (point) points.push(point)
    if (points.length > CHART_POINTS) points.shift()
    $('#chart').innerHTML = sharesChartSvg(points, status?.sites.map((s) => s.name) ?? [...totals.keys()], CHART_POINTS)
  } catch {
    // Unauthorised is asked for by the status read; a lost server shows on the stream banner.
  }
}

// Actions: each opens the dialog, which shows the what-if before the operator confirms.
type Pending = { action: string; target: string }
let pending: Pending | undefined

/** The write an action makes, and the change the what-if rehearses (none for a reload). */
function request(action: string, target: string, form: { reason: string; end: string; weight: string; force: boolean }): { method: string; path: string; body?: unknown; whatIf?: Record<string, unknown> } {
  const path = target.startsWith('site:') ? `/v1/sites/${encodeURIComponent(target.slice(5))}` : `/v1/servers/${encodeURIComponent(target)}`
  const end = form.end.trim() === '' ? {} : /^\d{4}-/.test(form.end.trim()) ? { until: form.end.trim() } : { for: form.end.trim() }
  const extra = { ...end, ...(form.force ? { force: true } : {}) }
  const state = { drain: 'drain', disable: 'disabled', enable: 'enabled', up: 'up' }[action]
  if (state) return { method: 'PUT', path: `${path}/state`, body: { state, reason: form.reason, ...extra }, whatIf: { target, state } }
  if (action === 'weight') return { method: 'PUT', path: `${path}/weight`, body: { weight: Number(form.weight), reason: form.reason, ...extra }, whatIf: { target, weight: Number(form.weight) } }
  if (action === 'clear') return { method: 'DELETE', path: `${path}/state?${new URLSearchParams({ reason: form.reason, ...(form.force ? { force: 'true' } : {}) })}`, whatIf: { target, clear: 'state' } }
  return { method: 'POST', path: '/v1/reload' }
}

function formValues() {
  return {
    reason: $<HTMLInputElement>('#reason').value,
    end: $<HTMLInputElement>('#end').value,
    weight: $<HTMLInputElement>('#weight').value,
    force: $<HTMLInputElement>('#force').checked,
  }
}

async function showWhatIf(): Promise<void> {
  if (!pending) return
  const planned = request(pending.action, pending.target, formValues())
  const out = $('#whatif')
  if (!planned.whatIf) {
    out.innerHTML = '<p>A reload reads the config, keys and zones again from disk; the what-if cannot rehearse files it has not read. A problem in them changes nothing.</p>'
    $<HTMLButtonElement>('#confirm').disabled = false
    return
  }
  if (pending.action === 'weight' && !/^\d+$/.test(formValues().weight)) {
    out.textContent = 'Give a whole weight from 0 to 1000.'
    return
  }
  out.textContent = 'Working out what clients would get…'
  try {
    const reply = await api('POST', '/v1/simulate', { changes: [planned.whatIf] })
    out.innerHTML = reply.status === 200 ? whatIfHtml(reply.json as Simulation, status?.sites.map((s) => s.name) ?? []) : `<p class="bad"></p>`
    if (reply.status !== 200) ($('#whatif p') as HTMLElement).textContent = `The what-if failed: ${reply.json.error}`
    out.dataset['shown'] = 'yes'
    $<HTMLButtonElement>('#confirm').disabled = reply.status !== 200
  } catch (error) {
    if (error instanceof Unauthorised) askForToken(error.message)
  }
}

function openAction(action: string, target: string): void {
  pending = { action, target }
  $('#action-title').textContent = action === 'reload' ? 'Reload config and zones' : `${action} ${target}`
  $('#weight-row').hidden = action !== 'weight'
  $('#end-row').hidden = action === 'reload' || action === 'clear'
  $('#reason-row').hidden = action === 'reload'
  $<HTMLInputElement>('#force').checked = false
  for (const id of ['#reason', '#end']) $<HTMLInputElement>(id).value = ''
  $('#action-result').textContent = ''
  $('#whatif').dataset['shown'] = ''
  $<HTMLButtonElement>('#confirm').disabled = true
  $<HTMLDialogElement>('#action').showModal()
  void showWhatIf()
}

async function confirmAction(): Promise<void> {
  if (!pending) return
  const form = formValues()
  if (pending.action !== 'reload' && form.reason.trim() === '') {
    $('#action-result').textContent = 'Say why: the reason goes in the audit log.'
    return
  }
  if (!token()) {
    askForToken('Changes need a token with the operate role (admin for a reload).')
    return
  }
  const planned = request(pending.action, pending.target, form)
  try {
    const reply = await api(planned.method, planned.path, planned.body)
    if (reply.status === 200) {
      $<HTMLDialogElement>('#action').close()
      refresh()
      return
    }
    const problems = reply.json.problems ? `: ${reply.json.problems.map((p: { file: string; line: number; message: string }) => `${p.file}:${p.line} ${p.message}`).join('; ')}` : ''
    $('#action-result').textContent = `Refused (${reply.status}): ${reply.json.error ?? 'the reload found problems'}${problems}`
  } catch (error) {
    if (error instanceof Unauthorised) askForToken(`The token was refused: ${error.message}.`)
  }
}

function wire(): void {
  document.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest('button.action') as HTMLButtonElement | null
    if (!button) return
    event.preventDefault()
    openAction(button.dataset['action'] as string, button.dataset['target'] as string)
  })
  // A details element toggles its group; remember which are open across re-renders.
  $('#sites').addEventListener('toggle', (event) => {
    const site = (event.target as HTMLElement).dataset['site']
    if (!site) return
    if ((event.target as HTMLDetailsElement).open) openSites.add(site)
    else openSites.delete(site)
  }, true)
  $('#filter').addEventListener('input', () => {
    filter = { ...filter, text: $<HTMLInputElement>('#filter').value }
    render()
  })
  $('#problems').addEventListener('change', () => {
    filter = { ...filter, problemsOnly: $<HTMLInputElement>('#problems').checked }
    render()
  })
  $('#reload').addEventListener('click', () => openAction('reload', ''))
  $('#weight').addEventListener('input', () => void showWhatIf())
  $('#confirm').addEventListener('click', () => void confirmAction())
  $('#cancel').addEventListener('click', () => $<HTMLDialogElement>('#action').close())
  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const value = $<HTMLInputElement>('#token').value.trim()
    if (value) sessionStorage.setItem(TOKEN_KEY, value)
    $<HTMLInputElement>('#token').value = ''
    $<HTMLDialogElement>('#login').close()
    $('#who').textContent = token() ? 'token set for this tab' : 'no token'
    refresh()
    void sampleShares()
  })
  $('#sign-in').addEventListener('click', () => askForToken('The token stays in this tab (session storage) and is sent only as a header.'))
  $('#sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY)
    $('#who').textContent = 'no token'
  })
  $('#who').textContent = token() ? 'token set for this tab' : 'no token'
}

async function loadHistory(): Promise<void> {
  try {
    const audit = (await api('GET', '/v1/audit?limit=50')).json as { entries: Record<string, unknown>[] }
    for (const entry of audit.entries) addToTimeline(timelineItem('audit', entry))
  } catch {
    // Unauthorised: the status read asks for a token; the stream then brings what happens next.
  }
}

wire()
void loadHistory()
void follow()
void sampleShares()
setInterval(() => void sampleShares(), CHART_EVERY_MS)
