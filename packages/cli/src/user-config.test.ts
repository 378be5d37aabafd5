import { Args, Parser } from '@oclif/core'
import type { FlagInput } from '@oclif/core/interfaces'
import { afterEach, describe, expect, it } from 'vitest'

import { previewFlags } from './flags/preview.js'
import { recoverFlags } from './flags/recover.js'
import { fillFromUserConfig } from './user-config.js'

const file = { image: 'file/image:1', namespace: 'file-ns', context: 'file-ctx' }

// What a verb sees: oclif's parse (flags and their KTX_* variables), then the settings file.
async function settle(argv: string[], flags: FlagInput = previewFlags) {
  const parsed = await Parser.parse(['web', ...argv], { flags, args: { name: Args.string() }, strict: false })
  return fillFromUserConfig(parsed.flags as Record<string, unknown>, flags, file)
}

describe('settings precedence on a verb: flag > KTX_* > config file > default', () => {
  afterEach(() => {
    delete process.env.KTX_IMAGE
    delete process.env.KTX_NAMESPACE
  })

  it('the flag wins over the variable and the file', async () => {
    process.env.KTX_IMAGE = 'env/image:1'
    const flags = await settle(['--expose', '80', '--image', 'flag/image:1'])
    expect(flags.image).toBe('flag/image:1')
  })

  it('the variable wins over the file', async () => {
    process.env.KTX_IMAGE = 'env/image:1'
    process.env.KTX_NAMESPACE = 'env-ns'
    const flags = await settle(['--expose', '80'])
    expect(flags.image).toBe('env/image:1')
    expect(flags.namespace).toBe('env-ns')
  })

  it('the file fills what neither set; what it lacks stays unset for core to default', async () => {
    const flags = await settle(['--expose', '80'])
    expect(flags).toMatchObject({ image: 'file/image:1', namespace: 'file-ns', context: 'file-ctx' })
    expect(flags.kubeconfig).toBeUndefined()
  })

  it('a verb without an --image flag does not get one from the file', async () => {
    const flags = await settle([], recoverFlags)
    expect(flags).not.toHaveProperty('image')
    expect(flags.namespace).toBe('file-ns')
  })
})
