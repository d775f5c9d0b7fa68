#!/usr/bin/env node
// Docker HEALTHCHECK probe. The logic lives in lib/command/probe.ts, built by `npm run build`.
// main() never throws; a package whose build is missing says so in one line, not with a stack.
import { createRequire } from 'node:module'

let main
try {
  ({ main } = createRequire(import.meta.url)('../dist/cjs/command/probe.js'))
  /* c8 ignore start: only a package without its dist/ gets here; test/command-probe.test.ts runs a copy of this file beside no build, which the coverage figures do not follow */
} catch (error) {
  process.stderr.write(`fastify-health-probe: cannot load the command (${String(error?.code ?? error?.message ?? error)}); is the package built?\n`)
  main = () => 1
}
/* c8 ignore stop */
process.exitCode = await main(process.argv, process)
