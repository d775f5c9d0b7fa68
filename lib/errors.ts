import { createError } from '@fastify/error'

// Every error this plugin throws has a stable FST_HEALTH_* code that callers can match on.

export const FST_HEALTH_INVALID_OPTION = createError(
  'FST_HEALTH_INVALID_OPTION', 'fastify-health: option "%s" %s', 500, TypeError)

export const FST_HEALTH_UNKNOWN_OPTION = createError(
  'FST_HEALTH_UNKNOWN_OPTION', 'fastify-health: unknown option "%s"', 500, TypeError)

export const FST_HEALTH_INVALID_STATE = createError(
  'FST_HEALTH_INVALID_STATE',
  'fastify-health: %s is not a State (expected "Warming up", "Working", "Shutting down" or "No information")',
  500, TypeError)

export const FST_HEALTH_ALREADY_REGISTERED = createError(
  'FST_HEALTH_ALREADY_REGISTERED',
  'fastify-health: the plugin is already registered on this instance (fastify.health exists)')

export const FST_HEALTH_LISTEN_FAILED = createError(
  'FST_HEALTH_LISTEN_FAILED', 'fastify-health: the health server could not listen on %s: %s')

export const FST_HEALTH_INVALID_CHECK = createError(
  'FST_HEALTH_INVALID_CHECK', 'fastify-health: check "%s" %s', 500, TypeError)

export const FST_HEALTH_DUPLICATE_CHECK = createError(
  'FST_HEALTH_DUPLICATE_CHECK', 'fastify-health: a check named "%s" is already registered')

export const FST_HEALTH_INVALID_CHECK_TARGET = createError(
  'FST_HEALTH_INVALID_CHECK_TARGET', 'fastify-health: %s expects %s, got %s', 500, TypeError)

export const FST_HEALTH_INVALID_CHECK_OPTION = createError(
  'FST_HEALTH_INVALID_CHECK_OPTION', 'fastify-health: %s option "%s" %s', 500, TypeError)

export const FST_HEALTH_ROUTE_TAKEN = createError(
  'FST_HEALTH_ROUTE_TAKEN', 'fastify-health: %s cannot be served at GET %s: %s is there already')

export const FST_HEALTH_EMPTY_GROUP = createError(
  'FST_HEALTH_EMPTY_GROUP',
  'fastify-health: group "%s" selects no check (its include and exclude leave none of the checks registered when the instance became ready)')

export const FST_HEALTH_PEER_MISSING = createError(
  'FST_HEALTH_PEER_MISSING', 'fastify-health: option "%s" needs the package %s, which could not be loaded: install it beside fastify-health')

export const FST_HEALTH_METRIC_TAKEN = createError(
  'FST_HEALTH_METRIC_TAKEN',
  'fastify-health: the Prometheus registry has a metric named "%s" already (one fastify-health instance per registry)')

export const FST_HEALTH_INVALID_LISTENER = createError(
  'FST_HEALTH_INVALID_LISTENER', 'fastify-health: %s needs a function', 500, TypeError)
