#!/usr/bin/env node
// Docker HEALTHCHECK probe: see docs/probe.md. The logic lives in lib/probe.ts, built by `npm run build`.
import { main } from '../dist/esm/probe.js'

process.exitCode = await main(process.argv, process)
