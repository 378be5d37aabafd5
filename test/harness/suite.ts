/**
 * The preamble every cluster e2e suite repeats, in one place: read `test/.cluster/env`, import
 * this build's shadow image, make the suite's own namespace (and delete it even when the set-up
 * fails half-way), show the negative control first, and check that nothing of ktx is left.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  type ClusterEnv,
  type FixtureNamespace,
  createFixtureNamespace,
  curlFromLaptop,
  inLaptop,
  loadClusterEnv,
} from './cluster.js'
import { ktxLeftovers } from './ktx.js'

const IMPORT_IMAGE = fileURLToPath(
  new URL('../../packages/shadow-image/scripts/import-local.sh', import.meta.url),
)

/** What the laptop network namespace must not reach without ktx; read when the test runs. */
export interface NegativeControl {
  /** URLs the laptop alone fails to fetch (curl fails and prints nothing). */
  readonly unreachable: () => readonly string[]
  /** Names the laptop's own resolver does not resolve (`dig +short` prints nothing). */
  readonly unresolvable?: () => readonly string[]
}

export interface SuiteFixtureOptions {
  /** Prefix of the suite's namespace; a random suffix is added (the cluster is shared). */
  readonly namespace: string
  /** Import the shadow image of this build first (suites that run a shadow pod). */
  readonly shadowImage?: boolean
  /** Registered as the suite's first test, so it runs before any ktx session. */
  readonly negativeControl?: NegativeControl
}

export interface SuiteFixture {
  readonly env: ClusterEnv
  /** The suite's namespace; there from the suite's own `beforeAll` on. */
  readonly namespace: string
  /** ktx-managed objects in the suite's namespace, as `kind/name` lines. */
  leftovers(): Promise<string[]>
  /** Fails the test if anything of ktx is left in the suite's namespace. */
  expectNoLeftovers(): Promise<void>
}

/**
 * Registers the suite's hooks (call it at the top of the file, before the suite's own hooks and
 * tests). Vitest runs `afterAll` hooks in reverse ("stack"), so the suite's own clean-up still sees
 * the namespace, which goes last.
 */
export function suiteFixture(options: SuiteFixtureOptions): SuiteFixture {
  const env = loadClusterEnv()
  let ns: FixtureNamespace | undefined
  const namespace = (): string => {
    if (ns === undefined) throw new Error(`the ${options.namespace} suite's namespace was not created`)
    return ns.name
  }
  const leftovers = (): Promise<string[]> => ktxLeftovers(env, namespace())

  beforeAll(async () => {
    if (options.shadowImage) await promisify(execFile)('bash', [IMPORT_IMAGE], { timeout: 120_000 })
    ns = await createFixtureNamespace(env, options.namespace)
    expect(await leftovers()).toEqual([])
  })
  afterAll(async () => {
    await ns?.close()
  })

  const control = options.negativeControl
  if (control) {
    describe('negative control: the laptop alone', () => {
      const resolves = control.unresolvable ? ', and cannot resolve cluster names' : ''
      it(`cannot reach the cluster's addresses and names${resolves}`, async () => {
        for (const url of control.unreachable()) {
          const result = await curlFromLaptop(env, url)
          expect(result.code, url).not.toBe(0)
          expect(result.stdout, url).toBe('')
        }
        for (const name of control.unresolvable?.() ?? []) {
          const dig = await inLaptop(env, 'dig', ['+short', '+time=2', '+tries=1', name])
          expect(dig.stdout.trim(), name).toBe('')
        }
      })
    })
  }

  return {
    env,
    get namespace() {
      return namespace()
    },
    leftovers,
    expectNoLeftovers: async () => {
      expect(await leftovers()).toEqual([])
    },
  }
}
