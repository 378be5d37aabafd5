import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { chooseSshCrypto, installedSshCryptoAddon } from './ssh-crypto.js'

const work = mkdtempSync(join(tmpdir(), 'ktx-ssh-crypto-'))
const notAnAddon = join(work, 'sshcrypto.node')
writeFileSync(notAnAddon, 'not a shared object')
const node = process.execPath

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('chooseSshCrypto', () => {
  const installed = installedSshCryptoAddon()

  it.runIf(installed !== undefined)(
    'takes the addon ssh2 built here when it loads under the node',
    async () => {
      await expect(chooseSshCrypto({ node, installed })).resolves.toEqual({
        kind: 'native',
        addon: installed,
      })
    },
  )

  it('leaves it out on request, or says why when there is none', async () => {
    await expect(chooseSshCrypto({ node, wanted: false, installed })).resolves.toEqual({
      kind: 'js',
      reason: 'left out on request',
    })
    const none = await chooseSshCrypto({ node, installed: undefined })
    expect(none).toMatchObject({ kind: 'js', reason: expect.stringContaining('did not build') as string })
  })

  it('an installed addon that does not load is left out with the loader error', async () => {
    const choice = await chooseSshCrypto({ node, installed: notAnAddon })
    expect(choice.kind).toBe('js')
    expect(choice).toMatchObject({ reason: expect.stringContaining(notAnAddon) as string })
    expect(choice).toMatchObject({ reason: expect.stringMatching(/does not load: .+/) as string })
  })

  it('an addon asked for by path that does not load is an error naming it', async () => {
    await expect(chooseSshCrypto({ node, wanted: notAnAddon, installed })).rejects.toMatchObject({
      code: 'KTX_IMAGE_BUNDLE_INVALID',
      message: expect.stringContaining(`${notAnAddon} does not load under ${node}`) as string,
    })
  })
})
