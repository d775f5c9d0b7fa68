// @godaddy/terminus on a node:http server, as its README sets it up:
// healthChecks { '/healthcheck': async () => ({}) }. Other paths answer 404.
import http from 'node:http'
import { createTerminus } from '@godaddy/terminus'
import { announce, listenPort, HOST } from './_serve.mjs'

const server = http.createServer((_request, response) => {
  response.statusCode = 404
  response.end()
})

createTerminus(server, {
  healthChecks: { '/healthcheck': async () => ({}) }
})

server.listen(listenPort(), HOST, () => {
  announce({ target: 'terminus', port: server.address().port, path: '/healthcheck' })
})
