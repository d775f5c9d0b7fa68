// The ceiling: node:http answering a constant buffer (the same body as the baseline), with
// precomputed headers. No routing, no serialization.
import http from 'node:http'
import { announce, listenPort, HOST } from './_serve.mjs'

const body = Buffer.from(JSON.stringify({ status: 'pass', notes: ['Service is running'], serviceId: 'bench' }))
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }

const server = http.createServer((_request, response) => {
  response.writeHead(200, headers)
  response.end(body)
})

server.listen(listenPort(), HOST, () => {
  announce({ target: 'node-http', port: server.address().port, path: '/' })
})
