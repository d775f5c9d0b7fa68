// A queue consumer with no HTTP of its own: the health endpoint on its own port.
import { createHealthServer } from 'fastify-health'

export async function runWorker (consume: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const server = createHealthServer({ serviceName: 'mailer', port: 8008, logger: true })
  await server.listen()
  server.health.setStateWarmUp()

  const stop = new AbortController()
  process.once('SIGTERM', () => stop.abort())
  server.health.setStateWorking()
  try {
    await consume(stop.signal)
  } finally {
    await server.close() // Shutting down, then closed
  }
}
