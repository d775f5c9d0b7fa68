// The router alone (issue 13): how long find-my-way, the router Fastify itself loads, takes to
// find GET /health when /health stands alone, when the default probe routes and the drill-down
// are under it, and when routes stand beside it. No HTTP and no Fastify request: only the
// lookup every request to /health makes. Shapes alternate in rounds; reported: the median over
// rounds of ns per lookup, and its ratio to /health alone. Run with `npm run bench:router`.
import { createRequire } from 'node:module'
import { fmt, median, numberFromEnv, writeResults } from './common.mjs'

// Fastify's own copy of the router, whatever else node_modules holds.
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))
const FindMyWay = requireFromFastify('find-my-way')

const config = {
  rounds: numberFromEnv('BENCH_ROUNDS', 7, { min: 1, integer: true }),
  lookups: numberFromEnv('BENCH_LOOKUPS', 2_000_000, { min: 1000, integer: true })
}

const shapes = [
  { name: '/health alone', routes: [] },
  { name: 'the defaults under it (/health/live, /ready, /started, /checks/:name)', routes: ['/health/live', '/health/ready', '/health/started', '/health/checks/:name'] },
  { name: 'three static routes under it', routes: ['/health/live', '/health/ready', '/health/started'] },
  { name: 'one parametric route under it (/health/:probe)', routes: ['/health/:probe'] },
  { name: 'three routes beside it (/livez, /readyz, /startz)', routes: ['/livez', '/readyz', '/startz'] }
]

function healthHandler () {}
function otherHandler () {}

/** A router with GET and HEAD /health and the shape's other routes, as Fastify registers them. */
function routerOf (routes) {
  const router = FindMyWay()
  for (const url of ['/health', ...routes]) {
    const handler = url === '/health' ? healthHandler : otherHandler
    router.on('GET', url, handler)
    router.on('HEAD', url, handler)
  }
  return router
}

/** ns per lookup over `count` lookups; fails if a lookup finds anything but /health's handler. */
function timeLookups (router, count) {
  let found = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    if (router.find('GET', '/health').handler === healthHandler) found++
  }
  const ns = Number(process.hrtime.bigint() - start)
  if (found !== count) throw new Error(`the router found /health ${found} times in ${count} lookups`)
  return ns / count
}

function main () {
  const routers = shapes.map(({ routes }) => routerOf(routes))
  // Warm-up, uncounted: every router's lookup optimised before the first round.
  for (const router of routers) timeLookups(router, config.lookups)
  const perShape = shapes.map(() => [])
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? routers.keys() : [...routers.keys()].reverse()
    for (const index of order) perShape[index].push(timeLookups(routers[index], config.lookups))
  }
  const alone = median(perShape[0])
  const rows = shapes.map(({ name, routes }, index) => ({
    shape: name,
    routes,
    nsPerLookup: median(perShape[index]),
    vsAlone: median(perShape[index].map((ns, round) => ns / perShape[0][round]))
  }))
  const md = [
    `# find-my-way looking up GET /health (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `node ${process.version}, find-my-way ${requireFromFastify('find-my-way/package.json').version}. ${config.rounds} rounds of ` +
      `${config.lookups} lookups per shape, after as many uncounted. Ratios: the median over rounds of the shape / /health alone in the same round.`,
    '',
    '| routes beside GET and HEAD /health | ns per lookup | x /health alone |',
    '|---|--:|--:|',
    ...rows.map((row) => `| ${row.shape} | ${fmt(row.nsPerLookup, 1)} | ${fmt(row.vsAlone, 3)} |`),
    ''
  ].join('\n')
  writeResults('route-lookup', { meta: { node: process.version, config, alone, finished: new Date().toISOString() }, rows }, md)
}

main()
