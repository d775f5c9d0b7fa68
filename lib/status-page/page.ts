import { createHash } from 'node:crypto'
import { SCRIPT, STYLE } from './assets.js'

// The status page: one self-contained document (no CDN, no font, no image but inline SVG), and
// the Content-Security-Policy that allows its own style and script by hash and nothing else.

export interface StatusPage {
  html: string
  csp: string
}

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/** An attribute value as HTML needs it: the data path is the user's option. */
const attribute = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)

/** The page, reading its data from `source` every `refresh` seconds. Nothing of the service is in it: the data brings it. */
export function buildStatusPage (source: string, refresh: number): StatusPage {
  const html = `<!doctype html>
<html lang="en" data-source="${attribute(source)}" data-refresh="${refresh}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Health</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
<h1 id="service">Health</h1>
<p id="meta" class="muted" hidden></p>
<p class="overall"><span id="status" class="badge big s-none">loading</span> <span id="since" class="muted" hidden></span></p>
</header>
<main>
<p id="hidden" hidden>Details are hidden.</p>
<p id="error" role="alert" hidden></p>
<section id="views-section" hidden><h2>Probes and groups</h2><ul id="views" class="views"></ul></section>
<section id="checks-section" hidden><h2>Checks</h2><p id="checks-empty" class="muted" hidden>No checks.</p><div id="checks" class="checks"></div></section>
<section id="changes-section" hidden><h2>Changes of the overall status</h2><ol id="changes" class="changes"></ol></section>
</main>
<footer>Refreshes every ${refresh} s. <span id="updated"></span></footer>
<script>${SCRIPT}</script>
</body>
</html>
`
  const csp = [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
  return { html, csp }
}
