/**
 * The three forms of the CLI's output for one scripted connect session (the events core emits, a
 * clock that moves a set amount per event): plain lines, NDJSON, and the terminal screen the live
 * step list leaves. Snapshots, so any change to what users read shows up in review.
 */
import { describe, expect, it } from 'vitest'

import { TunnelError } from '@ktx/core'

import { describeError } from '../../packages/cli/src/render/error.js'
import type { AnyEvent } from '../../packages/cli/src/render/events.js'
import { type Output, createOutput, pickOutputKind } from '../../packages/cli/src/render/output.js'
import { screenOf } from '../harness/screen.js'

const STEPS = [
  'kube.connect',
  'lease.create',
  'shadow.create',
  'shadow.ready',
  'port-forward.open',
  'ssh.connect',
  'socks.listen',
  'http.listen',
] as const

const SESSION: AnyEvent[] = [
  ...STEPS.flatMap((step): AnyEvent[] => [
    { type: 'step.start', step, ...(step === 'shadow.ready' ? { detail: 'ktx-shadow-1a2b' } : {}) },
    { type: 'step.done', step },
  ]),
  { type: 'step.done', step: 'ready' },
]
const SUMMARY = [
  'Connected: shadow pod team-a/ktx-shadow-1a2b',
  'SOCKS5 proxy: socks5h://127.0.0.1:1080',
  'HTTP proxy:   http://127.0.0.1:3128',
  '',
  'export ALL_PROXY=socks5h://127.0.0.1:1080',
  '',
  'Press Ctrl+C to disconnect.',
]
// An event a newer core may send: shown by its fields, not dropped.
const UNKNOWN = { type: 'tunnel.rerouted', via: 'pod/ktx-shadow-9' }
const AFTER_READY: AnyEvent[] = [
  { type: 'tunnel.degraded', error: new Error('port-forward stream closed') },
  { type: 'tunnel.restored', pod: 'ktx-shadow-1a2b3c4d-2', replaced: true, downMs: 2300, attempts: 2 },
  UNKNOWN,
  { type: 'cleanup.step', name: 'delete pod ktx-shadow-1a2b' },
]

interface Captured {
  readonly stdout: { text: string; readonly isTTY: boolean; readonly columns: number; write(t: string): void }
  readonly stderr: Captured['stdout']
}

function capture(tty: boolean): Captured {
  const stream = (): Captured['stdout'] => ({
    text: '',
    isTTY: tty,
    columns: 72,
    write(t: string) {
      this.text += t
    },
  })
  return { stdout: stream(), stderr: stream() }
}

/** Plays the session through `output`, the clock 400 ms further at each event. */
function play(kind: Output['kind']): Captured {
  const streams = capture(kind === 'tty')
  let now = Date.parse('2026-01-01T00:00:00Z')
  const output = createOutput(kind, streams, { debug: false, now: () => now })
  for (const event of SESSION) {
    now += 400
    output.event(event)
  }
  output.result('connect', { id: '1a2b', socks: 'socks5h://127.0.0.1:1080' }, SUMMARY, { summary: true })
  for (const event of AFTER_READY) {
    now += 400
    output.event(event)
  }
  output.ended('connect', 'closed')
  output.note('Disconnected; everything ktx created was removed.')
  output.stop()
  return streams
}

describe('CLI output of a connect session', () => {
  it('picks json for --json, the live list for a terminal (not TERM=dumb), plain otherwise', () => {
    expect(pickOutputKind(true, capture(true), {})).toBe('json')
    expect(pickOutputKind(false, capture(true), {})).toBe('tty')
    expect(pickOutputKind(false, capture(true), { TERM: 'dumb' })).toBe('plain')
    expect(pickOutputKind(false, capture(false), {})).toBe('plain')
  })

  it('plain: one line per step on stderr, the summary as is on stdout', () => {
    const { stdout, stderr } = play('plain')
    expect(stderr.text).toMatchInlineSnapshot(`
      "Loading kubeconfig …
      Creating session lease …
      Creating shadow pod …
      Waiting for the shadow pod to be ready (ktx-shadow-1a2b) …
      Opening port-forward …
      Connecting SSH tunnel …
      Starting SOCKS5 proxy …
      Starting HTTP proxy …
      Tunnel to the cluster broke (port-forward stream closed); reconnecting …
      Tunnel back after 2.3s over a new shadow pod (ktx-shadow-1a2b3c4d-2)
      Event tunnel.rerouted via="pod/ktx-shadow-9"
      Cleaning up: delete pod ktx-shadow-1a2b
      Disconnected; everything ktx created was removed.
      "
    `)
    expect(stdout.text).toBe(`${SUMMARY.join('\n')}\n`)
  })

  it('json: NDJSON on stdout only, every line typed; events, the result, later events, ended', () => {
    const { stdout, stderr } = play('json')
    const lines = stdout.text.trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      ...SESSION.map((e) => e.type),
      'result',
      ...AFTER_READY.map((e) => e.type),
      'ended',
    ])
    expect(lines.slice(-6).join('\n')).toMatchInlineSnapshot(`
      "{"type":"result","command":"connect","result":{"id":"1a2b","socks":"socks5h://127.0.0.1:1080"}}
      {"type":"tunnel.degraded","error":{"message":"port-forward stream closed"},"at":"2026-01-01T00:00:07.200Z"}
      {"type":"tunnel.restored","pod":"ktx-shadow-1a2b3c4d-2","replaced":true,"downMs":2300,"attempts":2,"at":"2026-01-01T00:00:07.600Z"}
      {"type":"tunnel.rerouted","via":"pod/ktx-shadow-9","at":"2026-01-01T00:00:08.000Z"}
      {"type":"cleanup.step","name":"delete pod ktx-shadow-1a2b","at":"2026-01-01T00:00:08.400Z"}
      {"type":"ended","command":"connect","reason":"closed"}"
    `)
    expect(stderr.text).toBe('Disconnected; everything ktx created was removed.\n')
  })

  it('tty: the screen shows each step with ✓ and its time, Ready with the total, the summary boxed', () => {
    const { stdout, stderr } = play('tty')
    expect(screenOf(stderr.text)).toMatchInlineSnapshot(`
      [
        "✓ Loading kubeconfig  0.4s",
        "✓ Creating session lease  0.4s",
        "✓ Creating shadow pod  0.4s",
        "✓ Waiting for the shadow pod to be ready (ktx-shadow-1a2b)  0.4s",
        "✓ Opening port-forward  0.4s",
        "✓ Connecting SSH tunnel  0.4s",
        "✓ Starting SOCKS5 proxy  0.4s",
        "✓ Starting HTTP proxy  0.4s",
        "✓ Ready in 6.4s",
        "✓ Ready again: tunnel restored over a new shadow pod (ktx-shadow-1a2b3c4d-2)  2.3s",
        "Event tunnel.rerouted via="pod/ktx-shadow-9"",
        "Cleaning up: delete pod ktx-shadow-1a2b",
        "Disconnected; everything ktx created was removed.",
      ]
    `)
    expect(screenOf(stdout.text)).toMatchInlineSnapshot(`
      [
        "╭──────────────────────────────────────────────╮",
        "│ Connected: shadow pod team-a/ktx-shadow-1a2b │",
        "│ SOCKS5 proxy: socks5h://127.0.0.1:1080       │",
        "│ HTTP proxy:   http://127.0.0.1:3128          │",
        "╰──────────────────────────────────────────────╯",
        "",
        "export ALL_PROXY=socks5h://127.0.0.1:1080",
        "",
        "Press Ctrl+C to disconnect.",
      ]
    `)
  })

  it('tty: a running step is a spinner line with its elapsed time, redrawn in place', () => {
    const streams = capture(true)
    let now = 0
    const output = createOutput('tty', streams, { debug: false, now: () => now })
    output.event({ type: 'step.start', step: 'shadow.ready', detail: 'ktx-shadow-1a2b' })
    now = 1500
    output.note('warn The image is being pulled')
    now = 2700
    output.event({ type: 'step.start', step: 'port-forward.open' })
    expect(screenOf(streams.stderr.text)).toEqual([
      'warn The image is being pulled',
      '⠋ Waiting for the shadow pod to be ready (ktx-shadow-1a2b) … 2.7s',
      '⠋ Opening port-forward … 0.0s',
    ])
    output.stop()
    expect(screenOf(streams.stderr.text)).toEqual(['warn The image is being pulled'])
  })

  it('errors: human on stderr (plain and tty), one JSON object on stdout', () => {
    const error = new TunnelError(
      'KTX_KUBE_UNREACHABLE',
      'Cannot reach the API server at https://10.0.0.1:6443',
      {
        suggestions: ['Check the kubeconfig context: kubectl config current-context'],
      },
    )
    const report = describeError(error)
    const human = capture(false)
    createOutput('plain', human, { debug: false }).error('connect', report, '/tmp/ktx.log')
    expect(human.stderr.text).toMatchInlineSnapshot(`
      "Error (KTX_KUBE_UNREACHABLE): Cannot reach the API server at https://10.0.0.1:6443
      Try this:
        Check the kubeconfig context: kubectl config current-context
      Details: /tmp/ktx.log
      "
    `)
    const json = capture(false)
    createOutput('json', json, { debug: false }).error('connect', report, '/tmp/ktx.log')
    expect(JSON.parse(json.stdout.text)).toMatchInlineSnapshot(`
      {
        "category": "network",
        "code": "KTX_KUBE_UNREACHABLE",
        "command": "connect",
        "data": {},
        "exitCode": 7,
        "log": "/tmp/ktx.log",
        "message": "Cannot reach the API server at https://10.0.0.1:6443",
        "suggestions": [
          "Check the kubeconfig context: kubectl config current-context",
        ],
        "type": "error",
      }
    `)
  })
})
