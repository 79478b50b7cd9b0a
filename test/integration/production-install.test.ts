// A production install as an operator makes one: the tracked files only, `npm ci --omit=dev` by
// the machine's own Node and npm (not the Node 24 this checkout runs on), then `npx signpost check`
// and `npx signpost serve`. The runtime Signpost needs is a regular dependency, so this works with
// no dev dependency present; the bin is committed executable, so running it changes no file mode.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureDebianPackages } from '../support/debian.ts'
import { dig } from '../support/dig.ts'

/** The machine's PATH without this checkout's node_modules/.bin: the Node and npm an operator has. */
const SYSTEM = { HOME: process.env['HOME'] ?? '/root', PATH: '/usr/local/bin:/usr/bin:/bin' }
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signpost-prod-'))
  for (const file of execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (!existsSync(file)) continue
    mkdirSync(join(dir, dirname(file)), { recursive: true })
    copyFileSync(file, join(dir, file))
    chmodSync(join(dir, file), statSync(file).mode)
  }
  // A repository of its own, so the test can see whether running the bin dirties the tree.
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@signpost.test', ...args], { cwd: dir, stdio: 'pipe' })
  git('init', '-q')
  git('add', '-A')
  git('commit', '-qm', 'release')
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: dir, env: SYSTEM, stdio: 'pipe' })
}, 300_000)

describe('a production install (npm ci --omit=dev)', () => {
  it('has no dev dependency, and the bin is committed executable with a shebang that finds the runtime npx puts on PATH', () => {
    expect(existsSync(join(dir, 'node_modules/typescript'))).toBe(false)
    expect(existsSync(join(dir, 'node_modules/vitest'))).toBe(false)
    expect(execFileSync('node', ['--version'], { env: SYSTEM, encoding: 'utf8' })).not.toMatch(/^v2[4-9]/)
    expect(execFileSync(join(dir, 'node_modules/.bin/node'), ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./)
    expect(execFileSync('git', ['ls-files', '-s', 'server/main.ts'], { encoding: 'utf8' })).toMatch(/^100755 /)
    expect(readFileSync(join(dir, 'server/main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
  })

  it('npx signpost check passes the shipped zones', () => {
    expect(execFileSync('npx', ['signpost', 'check'], { cwd: dir, env: SYSTEM, encoding: 'utf8' })).toContain('everything ok')
  })

  it('npx signpost serve answers DNS and stops on SIGTERM', async () => {
    // Its own process group: npx runs the server as its child, and the group is ours to signal.
    const child = spawn('npx', ['signpost', 'serve', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'], { cwd: dir, env: SYSTEM, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = ''
        const timer = setTimeout(() => reject(new Error(`not started: ${text}`)), 20_000)
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString()
          const started = /"dns":\["udp 127\.0\.0\.1:(\d+)"/.exec(text)
          if (started) {
            clearTimeout(timer)
            resolve(Number(started[1]))
          }
        })
      })
      expect((await dig(port, ['+tcp', 'example.com', 'SOA'])).status).toBe('NOERROR')
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      process.kill(-(child.pid as number), 'SIGTERM')
      await exited
    }
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' })).toBe('')
  })

  it('examples/signpost.service verifies with systemd-analyze against this install, with nothing to warn of', () => {
    ensureDebianPackages({ 'systemd-analyze': 'systemd' })
    const verify = (text: string): string => {
      const unit = join(dir, 'signpost.service')
      writeFileSync(unit, text)
      const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
      return `${result.status} ${result.stdout}${result.stderr}`.trim()
    }
    const unit = readFileSync('examples/signpost.service', 'utf8').replaceAll('/opt/signpost', dir)
    expect(verify(unit)).toBe('0')
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m)
    // The check can fail: a misspelt key and a missing runtime are both reported.
    expect(verify(unit.replace('ProtectSystem=', 'ProtectSytem='))).toContain("Unknown key 'ProtectSytem'")
    expect(verify(unit.replace(`${dir}/node_modules/.bin/node`, '/nowhere/node'))).toContain('is not executable')
  })

  it('examples/Dockerfile copies only what a release has, and runs what the install provides', () => {
    const text = readFileSync('examples/Dockerfile', 'utf8')
    const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(' '))
    expect(copied.length).toBeGreaterThan(3)
    for (const path of copied) expect({ path, exists: existsSync(join(dir, path)) }).toEqual({ path, exists: true })
    const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(text)?.[1] ?? '[]') as string[]
    for (const path of entry) expect(existsSync(path.replace('/opt/signpost', dir))).toBe(true)
    expect(text).toMatch(/^USER signpost$/m)
    expect(text).toMatch(/^HEALTHCHECK [^\n]*\\\n[^\n]*\/healthz/m)
  })
})

