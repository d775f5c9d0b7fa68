// fastify-health/checks: the ready-made checks. Each factory returns a ReadyMadeCheck, `{ check,
// close }`, for `fastify.health.addCheck()` or the `checks` option: the plugin calls close() when
// the check is removed or the instance closes, which releases what the check added to the app's
// client. The client libraries are the app's: the checks recognise the objects they are given
// and load none of them.
export type { ReadyMadeCheck } from './ready-made.js'
export { postgresCheck, type PostgresCheckOptions, type PostgresTarget } from './postgres.js'
export { redisCheck, type RedisCheckOptions, type RedisTarget } from './redis.js'
export { mysqlCheck, type MysqlCheckOptions, type MysqlTarget } from './mysql.js'
export { rabbitmqCheck, type RabbitmqCheckOptions } from './rabbitmq.js'
export { httpCheck, type HttpCheckOptions, type HttpCheckAnswer, type ExpectedStatus } from './http.js'
export { tcpCheck } from './tcp.js'
export { dnsCheck, type DnsCheckOptions, type DnsRecordType } from './dns.js'
export { diskCheck, type DiskCheckOptions } from './disk.js'
export { tlsCertificateCheck, type TlsCertificateCheckOptions, type TlsCertificateTarget } from './tls.js'
export { underPressureCheck, type UnderPressureTarget } from './under-pressure.js'
export type { ResponseTimeOptions } from './common.js'
