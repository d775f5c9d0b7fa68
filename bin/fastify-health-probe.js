#!/usr/bin/env node
// Docker HEALTHCHECK probe. The logic lives in lib/command/probe.ts, built by `npm run build`.
import { createRequire } from 'node:module'

const { main } = createRequire(import.meta.url)('../dist/cjs/command/probe.js')
process.exitCode = await main(process.argv, process)
