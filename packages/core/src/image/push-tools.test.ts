import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { PUSH_TOOLS, probePushTools, pushCommands } from './push-tools.js'
import { parseLdd } from './rootfs.js'

const input = { archive: '/w/image.tar', layoutDir: '/w/layout', ref: 'reg.example/ktx-shadow:0.1.0' }

describe('pushCommands', () => {
  it('pushes the archive with skopeo, the layout with crane', () => {
    expect(pushCommands('skopeo', { ...input, insecure: false })).toEqual([
      {
        command: 'skopeo',
        args: ['copy', 'oci-archive:/w/image.tar', 'docker://reg.example/ktx-shadow:0.1.0'],
      },
    ])
    expect(pushCommands('crane', { ...input, insecure: true })).toEqual([
      { command: 'crane', args: ['push', '--insecure', '/w/layout', 'reg.example/ktx-shadow:0.1.0'] },
    ])
  })

  it('loads before pushing with the daemon clients, and ctr removes its copy afterwards', () => {
    expect(pushCommands('docker', { ...input, insecure: false }).map((c) => c.args[0])).toEqual([
      'load',
      'push',
    ])
    const ctr = pushCommands('ctr', { ...input, insecure: true })
    expect(ctr.map((c) => c.args.slice(2, 4).join(' '))).toEqual([
      'images import',
      'images push',
      'images rm',
    ])
    expect(ctr[1]!.args).toContain('--plain-http')
    expect(ctr.every((c) => c.args[1] === 'ktx-push')).toBe(true)
  })
})

describe('probePushTools', () => {
  it('finds a client on PATH and reports the others as missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktx-tools-'))
    writeFileSync(join(dir, 'crane'), '#!/bin/sh\n', { mode: 0o755 })
    const probes = await probePushTools({ path: dir })
    expect(probes.map((p) => p.tool)).toEqual([...PUSH_TOOLS])
    expect(probes.find((p) => p.tool === 'crane')).toEqual({ tool: 'crane', usable: true })
    expect(probes.find((p) => p.tool === 'skopeo')).toMatchObject({ usable: false, reason: 'not on PATH' })
  })
})

describe('parseLdd', () => {
  it('takes resolved libraries and the loader, skips the vDSO', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
      '\tlibmissing.so => not found',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    ].join('\n')
    expect(parseLdd(output)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ])
  })
})
