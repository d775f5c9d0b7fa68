// Summarizes V8 CPU profiles (.cpuprofile, from `node --cpu-prof`, e.g. BENCH_PROFILE=health):
// self time per function and per package, to see where a server's time goes.
//   node bench/profile-summary.mjs bench/results/profiles/health-p1-r1.cpuprofile [top=25]
import { readFileSync } from 'node:fs'
import path from 'node:path'

const [file, topArg] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8'))

// Self time per node: the sampling interval between consecutive samples, credited to the sampled node.
const selfUs = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta)
}

/** Where a script belongs: a package name, node itself, or this project's build. */
function owner (url) {
  if (url === '') return '(native / V8)'
  if (url.startsWith('node:')) return 'node core'
  const clean = url.replace(/^file:\/\//, '')
  const nm = clean.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = clean.slice(nm + '/node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (clean.includes('/dist/')) return 'fastify-health (dist)'
  if (clean.includes('/bench/')) return 'bench server'
  return path.basename(clean)
}

const byFunction = new Map()
const byOwner = new Map()
let total = 0
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0
  if (us === 0) continue
  total += us
  const { functionName, url, lineNumber } = node.callFrame
  const where = url === '' ? '' : `${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/')}:${lineNumber + 1}`
  const key = `${functionName || '(anonymous)'} ${where}`.trim()
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const who = owner(url)
  byOwner.set(who, (byOwner.get(who) ?? 0) + us)
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const idle = [...byFunction].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, us]) => sum + us, 0)
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${pct(idle).trim()} idle`)
console.log('\nself time by package:')
for (const [who, us] of [...byOwner].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us)}  ${who}`)
console.log(`\nself time by function (top ${top}):`)
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${key}`)
