// A lab backend: an HTTP server on 0.0.0.0:8080 in its own namespace, behind its site's haproxy.
// Every path answers 200 with the backend's name, so a client can see which one served it.

import http from 'node:http'

const name = process.argv[2] ?? 'backend'
http.createServer((_request, response) => response.end(`${name}\n`)).listen(8080, '0.0.0.0')
