// The console in a real browser (Debian's chromium, driven by playwright-core with the system
// executable): against a server with protect_reads and real HTTP backends, the page asks for a
// token, goes live, shows a killed backend within 2 s, drains a site through its dialog (reason,
// what-if shown, confirm) after which dig no longer gets the site, meets the guard rail, and says
// so when the stream drops. A second server with 1,000 servers checks the page stays usable.
// Screenshots go to var/console/.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from '../support/backend.ts'
import { ensureDebianPackages } from '../support/debian.ts'
import { dig } from '../support/dig.ts'
import { startTestServer } from '../support/server.ts'

const TOKEN = 'console-token'
const VIPS = { tokyo: '127.0.77.1', osaka: '127.0.77.2', frankfurt: '127.0.77.3' } as const
const SHOTS = resolve('var/console')

let browser: Browser
let server: Awaited<ReturnType<typeof startTestServer>>
/** The first test ends by closing the server itself (the stream drop). */
let serverClosed = false
const backends = new Map<string, Backend>()

function writeSetup(dir: string, port: number): void {
  const records = (name: string) => Object.values(VIPS).map((a) => `${name} 5 A ${a}`).join('\n')
  writeFileSync(join(dir, 'console.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${records('www')}\n${records('geo')}\n${records('all')}\n`)
  writeFileSync(join(dir, 'signpost.yaml'), `rrl: { exempt: [127.0.0.0/8] }
admin: { protect_reads: true }
geoip: { database: ${resolve('zones/geoip/GeoLite2-City-Test.mmdb')} }
checks:
  web: { type: http, port: ${port}, path: /, interval_ms: 200, timeout_ms: 150, fall: 2, rise: 1 }
sites:
  tokyo: { vips: [${VIPS.tokyo}], check: web, weight: 2, location: { lat: 35.68, lon: 139.76, country: JP, continent: AS } }
  osaka: { vips: [${VIPS.osaka}], check: web, weight: 1, location: { lat: 34.69, lon: 135.50, country: JP, continent: AS } }
  frankfurt: { vips: [${VIPS.frankfurt}], check: web, weight: 2, location: { lat: 50.11, lon: 8.68, country: DE, continent: EU } }
names:
  www.console.test.: { policy: weighted, max_answers: 1 }
  geo.console.test.: { policy: nearest }
  all.console.test.: { policy: all, when_down: nodata }
`)
}

async function openConsole(adminAddress: string | undefined): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.on('pageerror', (error) => console.error('page error:', error.message))
  await page.goto(`http://${adminAddress}/`)
  return page
}

beforeAll(async () => {
  ensureDebianPackages({ chromium: 'chromium' })
  mkdirSync(SHOTS, { recursive: true })
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
  const first = await startBackend(VIPS.tokyo)
  backends.set(VIPS.tokyo, first)
  for (const address of [VIPS.osaka, VIPS.frankfurt]) backends.set(address, await startBackend(address, first.port))
  const dir = mkdtempSync(join(tmpdir(), 'signpost-console-'))
  writeSetup(dir, first.port)
  server = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), adminToken: TOKEN })
}, 600_000)

afterAll(async () => {
  await browser?.close()
  if (!serverClosed) await server?.close()
  for (const backend of backends.values()) await backend.kill()
})

describe('the console in a browser', () => {
  it('asks for a token, shows a backend dying within 2 s, drains a site with its what-if, meets the guard rail, and says when the stream drops', async () => {
    const page = await openConsole(server.adminAddress)
    // protect_reads: nothing to show until a token is given.
    await page.waitForSelector('#login[open]')
    await page.fill('#token', TOKEN)
    await page.click('#login button[type=submit]')
    await page.waitForSelector('#stream.live')
    await page.waitForSelector('details.site.ok[data-site="tokyo"]')
    expect(await page.locator('details.site.ok').count()).toBe(3)
    // The chart draws a bar per 5 s reading of the answer counters once there are answers between two readings.
    const deadline = Date.now() + 15_000
    while (!(await page.$('#chart svg.chart')) && Date.now() < deadline) await dig(server.port, ['www.console.test', 'A'])
    await page.waitForSelector('#chart svg.chart', { timeout: 1000 })
    await page.screenshot({ path: join(SHOTS, '1-overview.png'), fullPage: true })

    const killed = Date.now()
    await backends.get(VIPS.tokyo)?.kill()
    await page.waitForSelector('details.site.bad[data-site="tokyo"]', { timeout: 2000 })
    const seenMs = Date.now() - killed
    console.log(`console: tokyo's backend killed → shown down on the page in ${seenMs} ms`)
    expect(seenMs).toBeLessThan(2000)
    await page.waitForSelector('#timeline li.bad:has-text("127.0.77.1 (tokyo) up → down")')
    expect(await page.textContent('[data-name="www.console.test."]')).not.toContain(VIPS.tokyo)
    await page.click('details[data-site="tokyo"] > summary strong')
    await page.screenshot({ path: join(SHOTS, '2-tokyo-down.png'), fullPage: true })

    // Drain osaka through the page: the dialog shows the what-if before it can be confirmed.
    await page.click('details[data-site="osaka"] summary button[data-action="drain"]')
    await page.waitForSelector('#action[open] #whatif[data-shown="yes"]')
    const whatIf = await page.textContent('#whatif')
    expect(whatIf).toContain('all.console.test. A')
    expect(whatIf).toMatch(/osaka \d+%/)
    expect(await page.isDisabled('#confirm')).toBe(false)
    await page.fill('#reason', 'rehearsed kernel upgrade')
    await page.fill('#end', '30m')
    await page.screenshot({ path: join(SHOTS, '3-drain-what-if.png'), fullPage: true })
    await page.click('#confirm')
    await page.waitForSelector('#action', { state: 'hidden' })
    const all = (await dig(server.port, ['all.console.test', 'A'])).answer.map((line) => line.split(' ')[4])
    expect(all).toEqual([VIPS.frankfurt])
    await page.waitForSelector('details[data-site="osaka"] .override:has-text("drain by admin (admin): “rehearsed kernel upgrade” until")')
    await page.waitForSelector('#timeline li:has-text("site osaka: drain until")')

    // The guard rail: draining frankfurt too would leave the names nothing; the page says so and the write is refused.
    await page.click('details[data-site="frankfurt"] summary button[data-action="drain"]')
    await page.waitForSelector('#action[open] #whatif[data-shown="yes"]')
    expect(await page.textContent('#whatif .guard')).toContain('all.console.test. A')
    await page.fill('#reason', 'one too many')
    await page.click('#confirm')
    await page.waitForSelector('#action-result:has-text("Refused (409)")')
    await page.screenshot({ path: join(SHOTS, '4-guard-rail.png'), fullPage: true })
    await page.click('#cancel')
    expect((await dig(server.port, ['all.console.test', 'A'])).answer.map((line) => line.split(' ')[4])).toEqual([VIPS.frankfurt])
    await page.click('details[data-site="osaka"] > summary strong')
    await page.screenshot({ path: join(SHOTS, '5-after-drain.png'), fullPage: true })

    // The stream drops: the page says it is not live.
    await server.close()
    serverClosed = true
    await page.waitForSelector('#stream.lost:has-text("Not live")', { timeout: 5000 })
    await page.screenshot({ path: join(SHOTS, '6-stream-lost.png') })
  }, 60_000)

  it('stays usable at 1,000 servers: one status read, sites collapsed, a filter that finds one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signpost-console-big-'))
    const vips = Array.from({ length: 1000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`)
    writeFileSync(join(dir, 'big.test.zone'), `$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n${vips.map((a) => `www 5 A ${a}`).join('\n')}\n`)
    const sites = Array.from({ length: 100 }, (_, s) => `  site-${String(s).padStart(3, '0')}: { vips: [${vips.slice(s * 10, s * 10 + 10).join(', ')}] }`).join('\n')
    writeFileSync(join(dir, 'signpost.yaml'), `sites:\n${sites}\nnames:\n  www.big.test.: { policy: weighted, max_answers: 1 }\n`)
    const big = await startTestServer(dir, { configFile: join(dir, 'signpost.yaml'), adminToken: TOKEN })
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      const asked: string[] = []
      page.on('request', (request) => asked.push(new URL(request.url()).pathname))
      const started = Date.now()
      await page.goto(`http://${big.adminAddress}/`)
      await page.waitForSelector('details.site[data-site="site-099"]')
      console.log(`console: 100 sites, 1,000 servers rendered in ${Date.now() - started} ms`)
      expect(await page.locator('details.site').count()).toBe(100)
      expect(await page.locator('details.site[open]').count()).toBe(0)
      expect(asked.filter((path) => path.startsWith('/v1/servers/') || path.startsWith('/v1/sites/'))).toEqual([])
      expect(asked.filter((path) => path === '/v1/status').length).toBeLessThanOrEqual(2)
      await page.fill('#filter', '10.1.17.')
      await page.waitForSelector('details.site[open][data-site="site-026"]')
      expect(await page.locator('details.site').count()).toBe(1)
      expect(await page.locator('tr.server').count()).toBe(1)
      await page.screenshot({ path: join(SHOTS, '7-thousand-servers-filtered.png') })
    } finally {
      await big.close()
    }
  }, 60_000)
})
