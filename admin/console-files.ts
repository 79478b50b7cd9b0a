// The console's files (admin/console/), served at / by the admin API. The page's TypeScript is
// sent as JavaScript with its types stripped by Node's own stripTypeScriptTypes, the same
// erasure the server runs under: no build step and no bundler. A fixed list of files, read and
// stripped once when first asked for; nothing else under the folder is reachable.

import { readFile } from 'node:fs/promises'
import { stripTypeScriptTypes } from 'node:module'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'

const FOLDER = join(import.meta.dirname, 'console')
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console/main.ts': { file: 'main.ts', type: 'text/javascript; charset=utf-8' },
  '/console/view.ts': { file: 'view.ts', type: 'text/javascript; charset=utf-8' },
}
/** The page runs only its own scripts and talks only to this server. */
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const

export function serveConsole(app: FastifyInstance): void {
  const texts = new Map<string, Promise<string>>()
  const text = (file: string): Promise<string> => {
    let found = texts.get(file)
    if (!found) {
      found = readFile(join(FOLDER, file), 'utf8').then((source) => (file.endsWith('.ts') ? stripTypeScriptTypes(source) : source))
      texts.set(file, found)
    }
    return found
  }
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const id = file === 'index.html' ? 'console' : `console${file.replace(/\.(\w)/g, (_m, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase())}`
    app.get(path, { schema: { operationId: id, summary: file === 'index.html' ? 'The operator console' : `The console's ${file}`, tags: ['console'], security: [], response: { 200: { type: 'string', description: type } } } }, async (_request, reply) => reply.headers(HEADERS).type(type).send(await text(file)))
  }
}
