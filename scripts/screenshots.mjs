// The README's screenshots of the status page (issue 21), light and dark, with a failing check:
// `npm run screenshots` (it builds first). A service with a few checks is fed a minute of
// readings, then Debian's chromium (playwright-core) takes the page in both colour schemes.
import { mkdirSync } from 'node:fs'
import Fastify from 'fastify'
import { chromium } from 'playwright-core'
import fastifyHealth, { State } from '../dist/esm/index.js'

const out = new URL('../docs/', import.meta.url)
const config = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  width: 960,
  readings: 60
}

// The readings, step by step: a slow spell on postgres, a flapping payment API that ends failing.
let step = 0
const wave = (base, swing) => Math.round((base + swing * Math.sin(step / 5) + (step % 7) / 10) * 10) / 10
const paymentsDown = () => (step > 20 && step < 26) || step > 48

const app = Fastify()
await app.register(fastifyHealth, {
  serviceName: 'orders',
  version: '2.4.1',
  releaseId: 'git-9f3c2ab',
  initialState: State.WORK,
  exposeDetails: true,
  statusPage: true,
  groups: { datastores: { include: ['postgres:*', 'redis:*'] } },
  checks: {
    'postgres:responseTime': {
      cacheFor: 0,
      check: () => {
        const value = step > 30 && step < 40 ? wave(180, 30) : wave(6, 2)
        return { componentType: 'datastore', observedValue: value, observedUnit: 'ms', status: value > 100 ? 'warn' : 'pass', output: value > 100 ? 'slow: over 100 ms' : undefined }
      }
    },
    'redis:responseTime': { cacheFor: 0, check: () => ({ componentType: 'datastore', observedValue: wave(1.2, 0.4), observedUnit: 'ms' }) },
    'payments-api:responseTime': {
      cacheFor: 0,
      check: () => paymentsDown()
        ? { componentType: 'component', status: 'fail', output: 'connect ECONNREFUSED 10.0.4.12:443' }
        : { componentType: 'component', observedValue: wave(85, 25), observedUnit: 'ms' }
    },
    'disk:/var/lib/postgresql': { cacheFor: 0, check: () => ({ componentType: 'system', observedValue: 71 + Math.floor(step / 20), observedUnit: 'percent' }) }
  }
})
for (step = 0; step < config.readings; step++) await app.inject('/health')
const base = await app.listen({ host: '127.0.0.1', port: 0 })

const browser = await chromium.launch({ executablePath: config.executablePath, args: config.args, headless: true })
try {
  mkdirSync(out, { recursive: true })
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: config.width, height: 800 }, colorScheme: scheme, reducedMotion: 'reduce' })
    await page.goto(`${base}/health/ui`)
    await page.waitForFunction(() => document.querySelectorAll('article').length === 4)
    const file = new URL(`status-page-${scheme}.png`, out)
    await page.screenshot({ path: file.pathname, fullPage: true })
    console.log(`wrote ${file.pathname}`)
    await page.close()
  }
} finally {
  await browser.close()
  await app.close()
}
