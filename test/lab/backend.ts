// A lab backend: an HTTP server on 0.0.0.0:8080 in its own namespace, behind its site's haproxy.
// Every path answers 200 with the backend's name, so a client can see which one served it;
// /slow answers after 8 s, so a bounded number of clients can hold the site's HAProxy sessions.

import http from 'node:http'

const name = process.argv[2] ?? 'backend'
const SLOW_MS = 8000
http.createServer((request, response) => {
  if (request.url === '/slow') setTimeout(() => response.end(`${name} (slow)\n`), SLOW_MS).unref()
  else response.end(`${name}\n`)
}).listen(8080, '0.0.0.0')
