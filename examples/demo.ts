// `npm run demo`: Signpost serving the example zone with something behind its VIPs. Three small
// HTTP backends answer on the example sites' VIPs and LB-node addresses (127.0.{1,2,3}.x, port
// 8080), so the health checks find every site up; then `kill tokyo` (typed here) stops tokyo's
// backends and the answers move within seconds, as the console at the admin address shows (its
// actions take the token printed, made for the demo when SIGNPOST_ADMIN_TOKEN is not set).
// Arguments go to `signpost serve` (say `--listen 127.0.0.1:0`); its log goes to var/demo-server.log.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync } from 'node:fs'
import http from 'node:http'
import type net from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const PORT = 8080
/** Each example site's VIP and LB nodes (zones/signpost.yaml). */
const SITES: Record<string, readonly string[]> = {
  tokyo: ['127.0.1.1', '127.0.1.11', '127.0.1.12'],
  osaka: ['127.0.2.1', '127.0.2.11', '127.0.2.12'],
  frankfurt: ['127.0.3.1', '127.0.3.11', '127.0.3.12'],
}
const running = new Map<string, { servers: http.Server[]; sockets: Set<net.Socket> }>()

async function startSite(site: string): Promise<void> {
  if (running.has(site)) return
  const sockets = new Set<net.Socket>()
  const servers = await Promise.all((SITES[site] ?? []).map((address) => new Promise<http.Server>((resolve, reject) => {
    const server = http.createServer((_request, response) => response.end(`${site} ${address}\n`))
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    server.once('error', reject)
    server.listen(PORT, address, () => resolve(server))
  })))
  running.set(site, { servers, sockets })
}

async function stopSite(site: string): Promise<void> {
  const held = running.get(site)
  if (!held) return
  running.delete(site)
  for (const socket of held.sockets) socket.destroy()
  await Promise.all(held.servers.map((server) => new Promise((resolve) => server.close(resolve))))
}

mkdirSync('var', { recursive: true })
for (const site of Object.keys(SITES)) await startSite(site)
const main = join(import.meta.dirname, '../server/main.ts')
// The console's actions need a token: one for this demo, unless the environment brings its own.
const token = process.env['SIGNPOST_ADMIN_TOKEN'] ? undefined : randomBytes(12).toString('hex')
const env = token ? { ...process.env, SIGNPOST_ADMIN_TOKEN: `demo:${token}:admin` } : process.env
const server = spawn(process.execPath, [main, 'serve', '--config', join(import.meta.dirname, '../zones/signpost.yaml'), ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'], env })
const log = createWriteStream('var/demo-server.log')
server.stdout.pipe(log)

const stopAll = async (code: number): Promise<void> => {
  server.kill('SIGTERM')
  for (const site of [...running.keys()]) await stopSite(site)
  process.exit(code)
}
server.once('exit', (code) => {
  console.log(`signpost exited (${code}); see var/demo-server.log`)
  void stopAll(1)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll(0))

const started = await new Promise<{ dns: string; admin: string }>((resolve) => {
  createInterface({ input: server.stdout }).on('line', (line) => {
    if (!line.includes('"signpost started"')) return
    const entry = JSON.parse(line) as { dns: string[]; admin: string }
    resolve({ dns: (entry.dns[0] as string).split(' ')[1] as string, admin: entry.admin })
  })
})
const [host, port] = started.dns.split(':') as [string, string]
console.log(`Signpost is answering on ${started.dns} (admin API on ${started.admin}), with tokyo, osaka and frankfurt up.

  dig @${host} -p ${port} +short +subnet=2001:218::/32 geo.example.com    # a Japanese client: tokyo, 127.0.1.1
  dig @${host} -p ${port} +short +subnet=81.2.69.142/32 geo.example.com   # a London client: frankfurt, 127.0.3.1
  dig @${host} -p ${port} +short www.example.com                          # weighted: tokyo 2, osaka 1, frankfurt 2
  curl -s ${started.admin}/v1/status

The console: http://${started.admin}/${token ? ` (token for its actions: ${token})` : ''}

Type "kill tokyo" (or osaka, frankfurt) to stop a site's backends: within about 3 s its VIP leaves
the answers, and the Japanese client gets osaka. "start tokyo" brings it back; "quit" stops it all.`)

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, site] = line.trim().split(/\s+/)
  if (command === 'quit') return void stopAll(0)
  if ((command === 'kill' || command === 'start') && site && SITES[site]) {
    void (command === 'kill' ? stopSite(site) : startSite(site)).then(() => console.log(`${site}: ${command === 'kill' ? 'backends stopped' : 'backends started'}`))
    return
  }
  console.log('commands: kill SITE, start SITE, quit (sites: tokyo, osaka, frankfurt)')
})
