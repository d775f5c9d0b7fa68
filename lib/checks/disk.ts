// diskCheck: the free space of the file system that holds a path, read with statfs(2), judged
// by bytes free (smaller is worse) and percent used (larger is worse).
import { statfs } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ComponentDetail } from '../engine/types.js'
import { Status, worstStatus } from '../states.js'
import { rateReading, type Thresholds, thresholdsProblem } from '../thresholds.js'
import { checkOptions, failedReading, invalidOption, invalidTarget, type ResponseTimeOptions } from './common.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

export interface DiskCheckOptions {
  /**
   * Bytes free (available to the service's user) below which the reading is `warn`/`fail`.
   * Default `{ fail: 10 MiB }`, as Spring Boot's disk space indicator; given, it replaces the
   * default (`{}` for none).
   */
  minFreeBytes?: Thresholds
  /** Percent used at or above which the reading is `warn`/`fail`. Default: none. */
  maxUsedPercent?: Thresholds
  /** `componentId` of the reading. Default: the absolute path. */
  componentId?: string
}

const FACTORY = 'diskCheck'
const TARGET = 'a path (a string or a file: URL)'
const OPTION_KEYS = ['minFreeBytes', 'maxUsedPercent']

const defaults: { minFreeBytes: Thresholds, maxUsedPercent: Thresholds } = {
  /** 10 MiB, as Spring Boot's disk space indicator. */
  minFreeBytes: { fail: 10 * 1024 * 1024 },
  maxUsedPercent: {}
}

function parsePath (path: unknown): string {
  if (typeof path === 'string' && path !== '') return resolve(path)
  if (path instanceof URL && path.protocol === 'file:') return fileURLToPath(path)
  return invalidTarget(FACTORY, TARGET, path)
}

function validate (options: DiskCheckOptions & ResponseTimeOptions): void {
  // The shared warn/fail are round-trip times: a disk has none to judge.
  for (const key of ['warn', 'fail'] as const) {
    if (options[key] !== undefined) invalidOption(FACTORY, key, 'is not an option of this check (use minFreeBytes or maxUsedPercent)')
  }
  const { minFreeBytes, maxUsedPercent } = options
  const free = minFreeBytes === undefined ? undefined : thresholdsProblem(minFreeBytes, false)
  if (free !== undefined) invalidOption(FACTORY, 'minFreeBytes', free)
  if (maxUsedPercent === undefined) return
  const used = thresholdsProblem(maxUsedPercent) ??
    ([maxUsedPercent.warn, maxUsedPercent.fail].some((limit) => limit !== undefined && limit > 100) ? 'sets a threshold above 100 percent' : undefined)
  if (used !== undefined) invalidOption(FACTORY, 'maxUsedPercent', used)
}

/**
 * A check of the free space on the file system that holds `path`. One reading per file system
 * (the draft's array holds one entry per instance): `observedValue` is the bytes free to an
 * unprivileged user, in `bytes`, with `total` (bytes) and `usedPercent` as extra keys; its
 * status is the worse of the two judgements. A path that does not exist is a failed reading.
 */
export function diskCheck (path: string | URL, options?: DiskCheckOptions): ReadyMadeCheck {
  const absolute = parsePath(path)
  const settings = checkOptions<DiskCheckOptions & ResponseTimeOptions>(FACTORY, options, OPTION_KEYS)
  validate(settings)
  const { minFreeBytes = defaults.minFreeBytes, maxUsedPercent = defaults.maxUsedPercent } = settings
  const base: ComponentDetail = { componentType: 'system', componentId: settings.componentId ?? absolute }

  // statfs cannot be cancelled: it holds nothing to release, and the runner's timeout reports a hang.
  return readyMade(async () => {
    let stats
    try {
      stats = await statfs(absolute)
    } catch (error) {
      return failedReading(base, error)
    }
    const free = stats.bavail * stats.bsize
    const total = stats.blocks * stats.bsize
    // As df(1) counts it: used over what the user could use (the root reserve left out).
    const used = (stats.blocks - stats.bfree) * stats.bsize
    // A pseudo file system (/proc) has no blocks at all.
    const usedPercent = used + free === 0 ? 0 : Math.round(used / (used + free) * 10000) / 100
    const verdicts = [
      rateReading(free, minFreeBytes, { what: 'free space', unit: 'bytes', higherIsWorse: false }),
      rateReading(usedPercent, maxUsedPercent, { what: 'used space', unit: 'percent', higherIsWorse: true })
    ]
    const status = verdicts.reduce((worst, verdict) => worstStatus(worst, verdict.status), Status.PASS as Status)
    const reading: ComponentDetail = { ...base, observedValue: free, observedUnit: 'bytes', status, total, usedPercent }
    if (status === Status.PASS) return reading
    return { ...reading, output: verdicts.filter((verdict) => verdict.status === status).map((verdict) => verdict.output).join('; ') }
  })
}
