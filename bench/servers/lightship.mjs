// lightship: createLightship() starts its own HTTP server (Fastify 4, bundled); after
// signalReady() its GET /health answers 200 "SERVER_IS_READY".
//
// detectKubernetes: false and an explicit port make the port the one this bench asks for
// (in its local mode lightship picks any free port itself). lightship always listens on
// 0.0.0.0, with no option to change it: the bench must stay on 127.0.0.1, so net.Server's
// listen is wrapped to turn that host into 127.0.0.1, and the address is checked after.
import net from 'node:net'
import { announce, listenPort, HOST } from './_serve.mjs'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (args[0] !== null && typeof args[0] === 'object' && args[0].host === '0.0.0.0') {
    args[0] = { ...args[0], host: HOST }
  }
  return listen.apply(this, args)
}

const { createLightship } = await import('lightship')
const lightship = await createLightship({ detectKubernetes: false, port: listenPort() })
lightship.signalReady()

const address = lightship.server.address()
if (address.address !== HOST) {
  console.error(`lightship listens on ${address.address}, not ${HOST}: refusing to run`)
  process.exit(1)
}
announce({ target: 'lightship', port: address.port, path: '/health' })
