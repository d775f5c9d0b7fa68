#!/usr/bin/env node
// Docker HEALTHCHECK probe. The logic lives in lib/command/probe.ts, built by `npm run build`.
// main() never throws; a package whose build is missing says so in one line, not with a stack.
import { createRequire } from 'node:module'

let main
try {
  ({ main } = createRequire(import.meta.url)('../dist/cjs/command/probe.js'))
} catch (error) {
  process.stderr.write(`fastify-health-probe: cannot load the command (${String(error?.code ?? error?.message ?? error)}); is the package built?\n`)
  process.exitCode = 1
}
if (main !== undefined) process.exitCode = await main(process.argv, process)
