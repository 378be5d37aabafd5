/**
 * `ktx connect --mode socks` on a real pseudo-terminal in the laptop namespace, as a user runs it:
 * the live step list (spinners redrawn in place, each step ending in ✓ and its time), the boxed
 * summary of what is reachable and how, and Ctrl+C typed into the terminal ending the session
 * with nothing left. The summary is checked against reality: curl through the proxy it names.
 * A failing verb on a terminal: the failed step becomes ✗, the error follows with the log path.
 */
import { beforeAll, describe, expect, it } from 'vitest'

import { type WebWorkload, deployWeb, inLaptop } from '../harness/cluster.js'
import { suiteFixture } from '../harness/suite.js'
import { startKtxInTerminal } from '../harness/terminal.js'

const suite = suiteFixture({
  namespace: 'tty',
  shadowImage: true,
  negativeControl: { unreachable: () => [`http://${web.clusterIP}/`, `http://web.${suite.namespace}/`] },
})
let web: WebWorkload

beforeAll(async () => {
  web = await deployWeb(suite.env, suite.namespace, 'web', { body: `tty e2e ${suite.namespace}` })
})

const FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/gu
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/u
const TOOK = /\d+\.\ds$|\d+m \d\ds$/

describe('ktx connect on a terminal', () => {
  it('shows spinners, ✓ steps with times and a boxed summary; Ctrl+C disconnects and removes everything', async () => {
    const ktx = startKtxInTerminal(suite.env, [
      'connect',
      '--mode',
      'socks',
      '-n',
      suite.namespace,
      '--image',
      suite.env.SHADOW_IMAGE,
    ])
    try {
      const screen = await ktx.waitFor('boxed summary', (s) => s.some((line) => line.startsWith('╰')))

      // Spinner frames were drawn and redrawn in place (erase-line after a carriage return).
      const raw = ktx.raw()
      expect(new Set(raw.match(FRAMES)).size, 'distinct spinner frames').toBeGreaterThan(1)
      expect(raw).toContain('\r\u001b[2K')
      expect(raw).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the shadow pod to be ready … \d+\.\ds/u)
      // No spinner is left on the final screen; each step is a ✓ line with its time.
      expect(screen.filter((line) => SPINNER.test(line))).toEqual([])
      const steps = screen.filter((line) => line.startsWith('✓ '))
      expect(steps.map((line) => line.replace(/\s+\S+$/, '').replace(/ \(.*\)$/, ''))).toEqual([
        '✓ Loading kubeconfig',
        '✓ Creating session lease',
        '✓ Creating shadow pod',
        '✓ Waiting for the shadow pod to be ready',
        '✓ Opening port-forward',
        '✓ Connecting SSH tunnel',
        '✓ Starting SOCKS5 proxy',
        '✓ Starting HTTP proxy',
        '✓ Ready in',
      ])
      for (const line of steps) expect(line).toMatch(TOOK)

      // The box says what is reachable and how; the export lines stay outside it to be copied.
      const top = screen.findIndex((line) => line.startsWith('╭'))
      const bottom = screen.findIndex((line) => line.startsWith('╰'))
      const boxed = screen.slice(top + 1, bottom)
      expect(boxed.every((line) => line.startsWith('│ ') && line.endsWith(' │'))).toBe(true)
      expect(boxed[0]).toContain(`Connected: shadow pod ${suite.namespace}/ktx-shadow-`)
      const socks = /SOCKS5 proxy: (socks5h:\/\/127\.0\.0\.1:(\d+))/.exec(boxed.join('\n'))
      expect(socks).not.toBeNull()
      expect(screen).toContain(`export ALL_PROXY=${socks![1]!}`)

      const viaProxy = await inLaptop(suite.env, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '--socks5-hostname',
        `127.0.0.1:${socks![2]!}`,
        `http://web.${suite.namespace}/`,
      ])
      expect(viaProxy.stdout.trim()).toBe(web.body)
    } finally {
      ktx.type('\u0003')
    }
    expect(await ktx.exited).toBe(0)
    expect(ktx.screen()).toContain('Disconnected; everything ktx created was removed.')
    await suite.expectNoLeftovers()
  })

  it('a failing step turns into ✗ and the error prints below it with Try this and the log; exit 6', async () => {
    const ktx = startKtxInTerminal(suite.env, [
      'exchange',
      'nosuch',
      '--expose',
      '3000:80',
      '-n',
      suite.namespace,
    ])
    const code = await ktx.exited
    const screen = ktx.screen()
    expect(code).toBe(6)
    expect(screen.filter((line) => SPINNER.test(line))).toEqual([])
    const failed = screen.findIndex((line) => line.startsWith('✗ Looking up the Service and its ports'))
    expect(failed, screen.join('\n')).toBeGreaterThan(-1)
    expect(screen[failed + 1]).toMatch(/^Error \(KTX_SERVICE_NOT_FOUND\): /)
    expect(screen).toContain('Try this:')
    expect(screen.at(-1)).toMatch(/^Details: \S+\.log$/)
    await suite.expectNoLeftovers()
  })
})
