// Beside an authentication that guards every route: the probes stay public (an orchestrator has
// no token), the rest stays protected. Three ways, each tested over real HTTP.
import fastifyAuth from '@fastify/auth'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { test, type Test } from 'tap'
import { isHealthRoute } from '../lib/index.js'
import { besideApp, expectHealthAnswer, healthRoutes, STACK_FRAME } from './helpers.js'

const TOKEN = 's3cret-token'
const checks = { db: () => undefined }
const work = (app: FastifyInstance): void => { app.get('/work', async () => ({ ok: true })) }

function tokenOk (request: FastifyRequest): boolean {
  return request.headers.authorization === `Bearer ${TOKEN}`
}

/** The code of GET /work, with the token or without; a refusal must not echo it or a stack. */
async function workCode (base: string, withToken: boolean): Promise<number> {
  const res = await fetch(`${base}/work`, withToken ? { headers: { authorization: `Bearer ${TOKEN}` } } : {})
  const text = await res.text()
  if (text.includes(TOKEN) || STACK_FRAME.test(text)) return -1
  return res.status
}

/** Every health route public (GET and HEAD, no token), the app's route protected. */
async function expectProbesPublic (t: Test, base: string): Promise<void> {
  for (const url of healthRoutes) {
    await expectHealthAnswer(t, base + url, 200)
    await expectHealthAnswer(t, base + url, 200, { method: 'HEAD' })
  }
  t.equal(await workCode(base, false), 401, 'the app\'s route without the token: 401')
  t.equal(await workCode(base, true), 200, 'with the token: 200')
}

test('a global onRequest hook lets the health routes through (isHealthRoute)', async (t) => {
  const { base } = await besideApp(t, {
    before: (app) => {
      app.addHook('onRequest', async (request, reply) => {
        if (isHealthRoute(request)) return
        if (!tokenOk(request)) return reply.code(401).send({ error: 'Unauthorized' })
      })
    },
    options: { checks },
    after: work
  })
  await expectProbesPublic(t, base)
  t.equal((await fetch(`${base}/nowhere`)).status, 401, 'an unknown route without the token: 401 (its config has no marker)')
})

test('routeOptions.config can take the marker away: the health routes are then guarded too', async (t) => {
  const { base } = await besideApp(t, {
    before: (app) => {
      app.addHook('onRequest', async (request, reply) => {
        if (!isHealthRoute(request) && !tokenOk(request)) return reply.code(401).send({ error: 'Unauthorized' })
      })
    },
    options: { routeOptions: { config: { health: false } } }
  })
  t.equal((await fetch(`${base}/health/ready`)).status, 401, 'no marker: 401 without the token')
  await expectHealthAnswer(t, `${base}/health/ready`, 200, { headers: { authorization: `Bearer ${TOKEN}` } })
})

test('@fastify/auth as a global preHandler, with the marker as one strategy', async (t) => {
  const { base } = await besideApp(t, {
    before: async (app) => {
      await app.register(fastifyAuth)
      // `or`: a health route passes by its marker, any other route needs the token.
      app.addHook('preHandler', app.auth([
        async (request: FastifyRequest) => { if ((request.routeOptions.config as { health?: boolean }).health !== true) throw new Error('not a health route') },
        async (request: FastifyRequest) => { if (!tokenOk(request)) throw new Error('missing or wrong token') }
      ]))
    },
    options: { checks },
    after: work
  })
  await expectProbesPublic(t, base)
})

test('the protected routes in an encapsulated context of their own, the plugin outside it', async (t) => {
  const { base } = await besideApp(t, {
    options: { checks },
    after: (app) => app.register(async (protectedRoutes) => {
      protectedRoutes.addHook('onRequest', async (request, reply) => {
        if (!tokenOk(request)) return reply.code(401).send({ error: 'Unauthorized' })
      })
      work(protectedRoutes)
    })
  })
  await expectProbesPublic(t, base)
})

test('routeOptions.onRequest guards the health routes themselves (a management port, say)', async (t) => {
  const { base } = await besideApp(t, {
    options: {
      checks,
      routeOptions: {
        onRequest: async (request, reply) => {
          if (!tokenOk(request)) return reply.code(401).send({ error: 'Unauthorized' })
        }
      }
    }
  })
  for (const url of healthRoutes) {
    for (const method of ['GET', 'HEAD']) {
      const refused = await fetch(base + url, { method })
      t.equal(refused.status, 401, `${method} ${url} without the token: 401`)
      t.notMatch(await refused.text(), STACK_FRAME)
      await expectHealthAnswer(t, base + url, 200, { method, headers: { authorization: `Bearer ${TOKEN}` } })
    }
  }
})
