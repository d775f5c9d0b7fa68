// The status page's style and script: constants, so that their hashes (the page's
// Content-Security-Policy) are computed once. The script reads where its data is and how often to
// refresh from attributes of <html>, and puts every value in as text (textContent, attributes),
// never as HTML.

export const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--card:#f6f8fa;--line:#d0d7de;
--pass:#1a7f37;--pass-bg:#dafbe1;--warn:#7d4e00;--warn-bg:#fff1c2;--fail:#b42318;--fail-bg:#ffe0dc;--none:#57606a;--none-bg:#eaeef2}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#30363d;
--pass:#56d364;--pass-bg:#0f3a1c;--warn:#e3b341;--warn-bg:#3d2e00;--fail:#ff7b72;--fail-bg:#4c1512;--none:#9198a1;--none-bg:#21262d}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0 auto;max-width:72rem;padding:1rem;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.5rem;margin:0 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
h3{font-size:.95rem;margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere;flex:1 1 auto;min-width:0}
p{margin:.25rem 0}
.muted,footer{color:var(--muted)}
footer{margin-top:2rem;font-size:.85rem}
.overall{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.5rem}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-weight:600;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;border:1px solid currentColor;white-space:nowrap}
.badge.big{font-size:1.1rem;padding:.2rem .8rem}
.s-pass{color:var(--pass);background:var(--pass-bg)}
.s-warn{color:var(--warn);background:var(--warn-bg)}
.s-fail{color:var(--fail);background:var(--fail-bg)}
.s-none{color:var(--none);background:var(--none-bg)}
@media (prefers-reduced-motion:no-preference){.badge{transition:background-color .4s,color .4s}}
ul.views{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem}
ul.views li{display:flex;gap:.4rem;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.3rem .6rem;max-width:100%}
ul.views code{overflow-wrap:anywhere}
.checks{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,20rem),1fr))}
article{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem;min-width:0}
article.c-fail{border-color:var(--fail)}
article.c-warn{border-color:var(--warn)}
article header{display:flex;gap:.5rem;align-items:flex-start}
.output{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem;margin:.4rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .75rem;margin:.4rem 0;font-size:.85rem}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
svg{display:block;width:100%}
svg.spark{height:2rem;color:var(--fg)}
svg.spark polyline{fill:none;stroke:currentColor;stroke-width:1.5}
svg.strip{height:.75rem;margin-top:.3rem;background:var(--none-bg)}
rect.s-pass{fill:var(--pass)}
rect.s-warn{fill:var(--warn)}
rect.s-fail{fill:var(--fail)}
ol.changes{padding-left:1.2rem;margin:0;font-size:.9rem}
ol.changes li{overflow-wrap:anywhere}
#error{color:var(--fail)}
`

export const SCRIPT = `
(() => {
  'use strict'
  const root = document.documentElement
  const source = root.getAttribute('data-source')
  const refresh = Number(root.getAttribute('data-refresh')) * 1000
  const SVG = 'http://www.w3.org/2000/svg'
  const RECENT = 60
  const byId = (id) => document.getElementById(id)
  const make = (tag, className, text) => {
    const node = document.createElement(tag)
    if (className) node.className = className
    if (text !== undefined) node.textContent = text
    return node
  }
  const drawing = (tag, attributes) => {
    const node = document.createElementNS(SVG, tag)
    for (const name in attributes) node.setAttribute(name, String(attributes[name]))
    return node
  }
  const ago = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 90) return s + ' s ago'
    const m = Math.round(s / 60)
    if (m < 90) return m + ' min ago'
    const h = Math.round(m / 60)
    return h < 48 ? h + ' h ago' : Math.round(h / 24) + ' days ago'
  }
  const when = (at, now) => at === null ? 'no reading yet' : ago(now - at)
  const clock = (at) => new Date(at).toLocaleString()
  const badge = (node, status) => {
    node.textContent = status || 'no reading'
    node.className = 'badge s-' + (status || 'none') + (node.id === 'status' ? ' big' : '')
  }
  const times = (n) => n === 1 ? '1 change' : n + ' changes'

  const cards = new Map()
  function card (name) {
    const article = make('article')
    const header = make('header')
    const title = make('h3', 'name', name)
    const status = make('span')
    header.append(title, status)
    const output = make('p', 'output')
    const facts = make('dl')
    const fact = (label) => {
      const value = make('dd')
      facts.append(make('dt', '', label), value)
      return value
    }
    const value = fact('value')
    const changed = fact('changed')
    const changes = fact('in window')
    const spark = drawing('svg', { class: 'spark', viewBox: '0 0 100 20', preserveAspectRatio: 'none', role: 'img' })
    const line = drawing('polyline', { 'vector-effect': 'non-scaling-stroke', points: '' })
    spark.append(line)
    const strip = drawing('svg', { class: 'strip', viewBox: '0 0 ' + RECENT + ' 1', preserveAspectRatio: 'none', 'shape-rendering': 'crispEdges', role: 'img' })
    article.append(header, output, facts, spark, strip)
    return { article, status, output, value, changed, changes, spark, line, strip }
  }

  function sparkline (view, values) {
    const numbers = values.filter((v) => v !== null)
    view.spark.setAttribute('aria-label', numbers.length === 0 ? 'no values' : 'recent values, from ' + Math.min(...numbers) + ' to ' + Math.max(...numbers))
    if (numbers.length === 0) { view.line.setAttribute('points', ''); return }
    const low = Math.min(...numbers)
    const span = Math.max(...numbers) - low || 1
    const step = 100 / Math.max(1, values.length - 1)
    const points = []
    values.forEach((v, i) => { if (v !== null) points.push((i * step).toFixed(2) + ',' + (19 - (v - low) / span * 18).toFixed(2)) })
    view.line.setAttribute('points', points.join(' '))
  }

  const WORDS = { p: 'pass', w: 'warn', f: 'fail' }
  function strip (view, letters) {
    const count = { pass: 0, warn: 0, fail: 0 }
    const rects = []
    const offset = RECENT - letters.length
    for (let i = 0; i < letters.length; i++) {
      const word = WORDS[letters[i]]
      count[word]++
      rects.push(drawing('rect', { class: 's-' + word, x: offset + i, y: 0, width: 1, height: 1 }))
    }
    view.strip.replaceChildren(...rects)
    view.strip.setAttribute('aria-label', 'last ' + letters.length + ' readings: ' + count.pass + ' pass, ' + count.warn + ' warn, ' + count.fail + ' fail')
  }

  function renderCheck (view, check, now) {
    badge(view.status, check.status)
    view.article.className = 'c-' + (check.status || 'none')
    view.output.textContent = check.output || ''
    view.output.hidden = !check.output
    view.value.textContent = check.value === null ? '-' : check.value + (check.unit ? ' ' + check.unit : '')
    view.changed.textContent = when(check.since, now)
    if (check.since !== null) view.changed.setAttribute('title', clock(check.since))
    view.changes.textContent = times(check.changes) + (check.windowStart === null ? '' : ' since ' + ago(now - check.windowStart).replace(' ago', '') + ' ago')
    sparkline(view, check.values)
    strip(view, check.strip)
  }

  function render (data) {
    badge(byId('status'), data.status === undefined ? data.service.status : data.status)
    byId('hidden').hidden = data.details
    for (const id of ['meta', 'since', 'views-section', 'checks-section', 'changes-section']) byId(id).hidden = !data.details
    if (!data.details) {
      byId('service').textContent = 'Health'
      cards.forEach((view) => view.article.remove())
      cards.clear()
      return
    }
    const { service, now } = data
    byId('service').textContent = service.name
    document.title = service.name + ': ' + service.status
    byId('meta').textContent = [service.version && 'version ' + service.version, service.releaseId && 'release ' + service.releaseId, 'state: ' + service.state].filter(Boolean).join(' · ')
    byId('since').textContent = 'since ' + ago(now - service.since)
    byId('since').setAttribute('title', clock(service.since))

    const views = byId('views')
    views.replaceChildren(...data.views.map((v) => {
      const item = make('li')
      const status = make('span')
      badge(status, v.status)
      item.append(make('strong', '', v.name), status, make('code', 'muted', v.url))
      return item
    }))
    byId('views-section').hidden = data.views.length === 0

    const list = byId('checks')
    const seen = new Set()
    for (const check of data.checks) {
      seen.add(check.name)
      let view = cards.get(check.name)
      if (view === undefined) {
        view = card(check.name)
        cards.set(check.name, view)
      }
      list.append(view.article)
      renderCheck(view, check, now)
    }
    cards.forEach((view, name) => { if (!seen.has(name)) { view.article.remove(); cards.delete(name) } })
    byId('checks-empty').hidden = data.checks.length > 0

    byId('changes').replaceChildren(...data.changes.slice().reverse().map((change) => {
      const item = make('li')
      const to = make('span')
      badge(to, change.to)
      const cause = change.cause.check !== undefined ? 'check ' + change.cause.check : 'state ' + change.cause.state
      item.append(make('span', '', ago(now - Date.parse(change.time)) + ': ' + change.from + ' → '), to, make('span', 'muted', ' (' + cause + ')'))
      return item
    }))
    byId('changes-section').hidden = data.changes.length === 0
  }

  async function update () {
    const error = byId('error')
    try {
      const response = await fetch(source, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
      if (!response.ok) throw new Error('HTTP ' + response.status)
      render(await response.json())
      error.hidden = true
      byId('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
    } catch (failure) {
      error.textContent = 'Could not refresh: ' + failure.message
      error.hidden = false
    } finally {
      setTimeout(update, refresh)
    }
  }
  update()
})()
`
