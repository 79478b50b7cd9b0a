// `npm run demo` as a newcomer runs it: every example site answered while its backends run; the
// console is served where the demo says, with a token that works; `kill tokyo` typed at the demo
// moves a Japanese client's answer to osaka, `start tokyo` brings it back.

import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dig } from '../support/dig.ts'
import { until } from '../support/wait.ts'

const demo = spawn(process.execPath, [resolve('examples/demo.ts'), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'], { cwd: mkdtempSync(join(tmpdir(), 'signpost-demo-')), stdio: ['pipe', 'pipe', 'inherit'] })
let printed = ''
demo.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()))

afterAll(async () => {
  if (demo.exitCode === null) {
    demo.stdin.write('quit\n')
    await new Promise((resolve) => demo.once('exit', resolve))
  }
})

describe('npm run demo', () => {
  it('answers from healthy sites, and a site killed at the demo leaves the answers within seconds, then returns', async () => {
    await until(async () => /answering on 127\.0\.0\.1:(\d+)/.test(printed), 20_000, 'the demo prints where it answers')
    const port = Number(/answering on 127\.0\.0\.1:(\d+)/.exec(printed)?.[1])
    const japanese = async (): Promise<string[]> => (await dig(port, ['+subnet=2001:218::/32', 'geo.example.com', 'A'])).answer.map((line) => line.split(' ')[4] as string)
    await until(async () => JSON.stringify(await japanese()) === '["127.0.1.1"]', 10_000, 'tokyo for a Japanese client')
    expect(printed).toContain('Type "kill tokyo"')
    // The console is where it says, and the token it prints is one the server takes.
    const [, consoleUrl, token] = /The console: (\S+) \(token for its actions: ([0-9a-f]+)\)/.exec(printed) ?? []
    expect(await (await fetch(consoleUrl as string)).text()).toContain('<title>Signpost console</title>')
    const reloaded = await fetch(new URL('/v1/reload', consoleUrl), { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(reloaded.status).toBe(200)
    const killed = Date.now()
    demo.stdin.write('kill tokyo\n')
    await until(async () => JSON.stringify(await japanese()) === '["127.0.2.1"]', 5000, 'osaka once tokyo is dead')
    console.log(`demo: tokyo killed → Japanese client on osaka in ${Date.now() - killed} ms`)
    demo.stdin.write('start tokyo\n')
    await until(async () => JSON.stringify(await japanese()) === '["127.0.1.1"]', 10_000, 'tokyo back')
    demo.stdin.write('quit\n')
    await new Promise((resolve) => demo.once('exit', resolve))
    expect(demo.exitCode).toBe(0)
  }, 60_000)
})
