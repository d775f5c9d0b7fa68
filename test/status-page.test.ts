// The status page (issue 21) in a real browser: Debian's chromium driven by playwright-core. It
// renders every check with no console error and no CSP violation, shows a check's flips in place
// without a reload, shows a hostile name and output as text, hides every check name without
// permission, and has no horizontal scroll at 320 px.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import t, { type Test, test } from 'tap'
import type { FastifyHealthOptions } from '../lib/index.js'
import { besideApp, controlledCheck, until } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const HOSTILE = '<img src=x onerror=alert(1)>'

// A browser on a loaded 2-core machine: each page waits for a refresh or two.
t.setTimeout(180_000)

// Never skipped: without the browser this file fails, naming what to install (npm test installs it).
if (!existsSync(CHROMIUM)) {
  test('the status page in a browser', (t) => { t.fail(`${CHROMIUM} is not installed (scripts/install-test-servers.sh installs it)`); t.end() })
} else {
  let browser: Browser | undefined
  const launched = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })

  test('the browser', async (t) => {
    browser = await launched()
    // Always closed, whatever the tests do.
    t.teardown(async () => { await browser?.close() })

    /** A page of the browser that records console errors, CSP violations and dialogs; closed with the test. */
    async function watchedPage (t: Test, width = 1024): Promise<{ page: Page, errors: string[], violations: string[], dialogs: string[] }> {
      const context = await (browser as Browser).newContext({ viewport: { width, height: 800 } })
      t.teardown(() => context.close())
      const page = await context.newPage()
      const errors: string[] = []
      const violations: string[] = []
      const dialogs: string[] = []
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
      page.on('pageerror', (error) => errors.push(error.message))
      page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}) })
      await page.exposeFunction('reportViolation', (text: string) => { violations.push(text) })
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          (window as unknown as { reportViolation: (text: string) => void }).reportViolation(`${event.violatedDirective} ${event.blockedURI}`)
        })
      })
      return { page, errors, violations, dialogs }
    }

    async function served (t: Test, options: Partial<FastifyHealthOptions>) {
      const { app, base } = await besideApp(t, { options: { statusPage: { refresh: 1 }, ...options } })
      return { app, url: `${base}/health/ui` }
    }

    await t.test('renders every check and group, with no console error and no CSP violation', async (t) => {
      const db = controlledCheck()
      const { url } = await served(t, {
        version: '2.1.0',
        releaseId: 'abc123',
        exposeDetails: true,
        groups: { db: { include: ['db:*'] } },
        checks: {
          'db:responseTime': { check: () => ({ ...db.check(), observedValue: 12, observedUnit: 'ms' }), cacheFor: 0 },
          'cache:hitRatio': { check: () => ({ status: 'warn', output: 'cold cache', observedValue: 0.42 }), cacheFor: 0 },
          'queue:depth': { check: () => ({ status: 'fail', output: 'no broker' }), cacheFor: 0, critical: false }
        }
      })
      const { page, errors, violations } = await watchedPage(t)
      const response = await page.goto(url)
      const csp = response?.headers()['content-security-policy'] ?? ''
      t.match(csp, /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self'; img-src data:/)
      const html = await response?.text() ?? ''
      t.ok(Buffer.byteLength(html) < 30 * 1024, `the page weighs ${Buffer.byteLength(html)} bytes, under 30 KB`)
      const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] as string
      t.ok(csp.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`), 'the script is allowed by its hash')
      await page.waitForSelector('article h3')
      await page.waitForFunction(() => document.querySelectorAll('article').length === 3)
      t.same(await page.$$eval('article h3', (nodes) => nodes.map((node) => node.textContent)), ['db:responseTime', 'cache:hitRatio', 'queue:depth'])
      t.equal(await page.textContent('#service'), 'orders')
      t.match(await page.textContent('#meta'), /version 2\.1\.0 · release abc123 · state: Working/)
      t.equal(await page.textContent('#status'), 'warn', 'the overall status, by word')
      t.match(await page.getAttribute('#status', 'class'), /s-warn/, 'and by colour')
      t.match(await page.textContent('#since'), /^since \d+ s ago$/)
      const views = await page.$$eval('#views li', (nodes) => nodes.map((node) => node.textContent))
      t.same(views, ['livepass/health/live', 'readywarn/health/ready', 'startedpass/health/started', 'dbpass/health/db'], 'every probe and group with its status')
      const db0 = page.locator('article', { has: page.locator('h3', { hasText: 'db:responseTime' }) })
      t.equal(await db0.locator('.badge').textContent(), 'pass')
      t.equal(await db0.locator('dd').first().textContent(), '12 ms', 'the value with its unit')
      t.match(await db0.locator('polyline').getAttribute('points'), /\d/, 'a sparkline')
      const queue = page.locator('article', { has: page.locator('h3', { hasText: 'queue:depth' }) })
      t.equal(await queue.locator('.output').textContent(), 'no broker', 'the last output')
      t.equal(await queue.locator('.badge').textContent(), 'warn', 'counted as it counts: non-critical')
      t.same(errors, [], 'no console error')
      t.same(violations, [], 'no CSP violation')
      // The watcher works: a style the policy does not allow is reported.
      await page.evaluate(() => {
        const style = document.createElement('style')
        style.textContent = 'body{color:red}'
        document.head.append(style)
      })
      await until(t, () => violations.some((violation) => violation.startsWith('style-src')), 'an inline style outside the policy is a violation the watcher sees')
    })

    await t.test('a check that flips pass, fail, pass shows both changes in place, and the strip shows them', async (t) => {
      const db = controlledCheck()
      const { url } = await served(t, { exposeDetails: true, checks: { 'db:responseTime': { check: db.check, cacheFor: 0 } } })
      const { page, errors, violations } = await watchedPage(t)
      await page.goto(url)
      await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42 })
      const badge = page.locator('article .badge')
      await page.waitForFunction(() => document.querySelector('article .badge')?.textContent === 'pass')
      db.set('fail')
      await page.waitForFunction(() => document.querySelector('article .badge')?.textContent === 'fail', undefined, { timeout: 15_000 })
      t.equal(await page.locator('article .output').textContent(), 'it is fail')
      t.match(await page.textContent('#status'), 'fail')
      db.set('pass')
      await page.waitForFunction(() => document.querySelector('article .badge')?.textContent === 'pass', undefined, { timeout: 15_000 })
      t.equal(await badge.textContent(), 'pass')
      t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the same document: no reload')
      t.match(await page.locator('article dd').nth(2).textContent(), /^2 changes/, 'both changes counted')
      const strip = await page.$$eval('article svg.strip rect', (rects) => rects.map((rect) => rect.getAttribute('class')))
      t.ok(strip.includes('s-fail'), 'the strip shows the failing readings')
      t.equal(strip.at(-1), 's-pass', 'and the passing one after')
      t.ok(strip.indexOf('s-pass') < strip.indexOf('s-fail'), 'in order')
      t.match(await page.locator('article svg.strip').getAttribute('aria-label'), /pass, 0 warn, [1-9]\d* fail/, 'and says so in words')
      const changes = await page.$$eval('#changes li', (nodes) => nodes.map((node) => node.textContent))
      t.match(changes[0], /fail → pass \(check db:responseTime\)/, 'the overall status\'s changes, newest first')
      t.same(errors, [])
      t.same(violations, [])
    })

    await t.test('a hostile name and output show as text, and no dialog opens', async (t) => {
      const { url } = await served(t, {
        exposeDetails: true,
        checks: { [HOSTILE]: { check: () => ({ status: 'fail', output: HOSTILE, observedUnit: HOSTILE, observedValue: 1 }), cacheFor: 0 } }
      })
      const { page, errors, violations, dialogs } = await watchedPage(t)
      await page.goto(url)
      await page.waitForSelector('article h3')
      t.equal(await page.textContent('article h3'), HOSTILE, 'the name, as characters')
      t.equal(await page.textContent('article .output'), HOSTILE, 'the output, as characters')
      t.equal(await page.textContent('article dd'), `1 ${HOSTILE}`)
      t.equal(await page.locator('img').count(), 0, 'no element made of it')
      t.same(dialogs, [], 'no dialog')
      t.same(errors, [])
      t.same(violations, [])
    })

    await t.test('with details hidden, no check name anywhere in the DOM', async (t) => {
      const secret = 'secretdb:responseTime'
      const { url } = await served(t, {
        exposeDetails: false,
        groups: { private: { include: [secret] } },
        checks: { [secret]: { check: () => ({ status: 'fail', output: 'secret output' }), cacheFor: 0 } }
      })
      const { page, errors, violations } = await watchedPage(t)
      await page.goto(url)
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'fail')
      t.equal(await page.isVisible('#hidden'), true, 'says that the details are hidden')
      t.match(await page.textContent('#hidden'), 'Details are hidden')
      const dom = await page.content()
      for (const word of [secret, 'secret', 'private', 'orders']) t.notMatch(dom, word, `"${word}" is nowhere in the DOM`)
      const data = await page.evaluate(async () => (await fetch(document.documentElement.getAttribute('data-source') as string)).text())
      t.same(JSON.parse(data), { details: false, status: 'fail' }, 'nor in the data: the overall status alone')
      t.equal(await page.locator('article').count(), 0)
      t.same(errors, [])
      t.same(violations, [])
    })

    await t.test('at 320 px wide there is no horizontal scroll', async (t) => {
      const long = 'a-very-long-component-name-without-any-break:and-a-long-measurement-name-too'
      const { url } = await served(t, {
        exposeDetails: true,
        version: '1.0.0-with-a-rather-long-pre-release-tag',
        groups: { 'a-group-with-a-long-name': { include: [long] } },
        checks: { [long]: { check: () => ({ status: 'fail', output: 'x'.repeat(300), observedValue: 123456789.123, observedUnit: 'bytes' }), cacheFor: 0 } }
      })
      for (const scheme of ['light', 'dark'] as const) {
        const { page, errors } = await watchedPage(t, 320)
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' })
        await page.goto(url)
        await page.waitForSelector('article h3')
        const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
        t.ok(scroll <= client, `${scheme}: scrollWidth ${scroll} <= clientWidth ${client}`)
        t.same(errors, [])
      }
    })
  })
}
