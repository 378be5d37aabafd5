import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { DEFAULT_SHADOW_IMAGE } from '../contract.js'
import {
  checkSetting,
  readUserConfig,
  resolveSetting,
  updateUserConfig,
  userConfigPath,
} from './user-config.js'

describe('resolveSetting: flag > KTX_* env > file > default', () => {
  const file = { image: 'file/image:1', namespace: 'from-file' }
  const env = { KTX_IMAGE: 'env/image:1', KTX_CONTEXT: '' }

  it('takes the flag over everything', () => {
    expect(resolveSetting('image', { flag: 'flag/image:1', env, file })).toEqual({
      key: 'image',
      value: 'flag/image:1',
      source: 'flag',
    })
  })
  it('takes the environment over the file', () => {
    expect(resolveSetting('image', { env, file })).toMatchObject({ value: 'env/image:1', source: 'env' })
  })
  it('takes the file over the default, and an empty variable counts as unset', () => {
    expect(resolveSetting('namespace', { env, file })).toMatchObject({ value: 'from-file', source: 'file' })
    expect(resolveSetting('image', { env: { KTX_IMAGE: '' }, file })).toMatchObject({ source: 'file' })
  })
  it('falls back to the default: the published image, or nothing for the kube settings', () => {
    expect(resolveSetting('image', { env: {}, file: {} })).toEqual({
      key: 'image',
      value: DEFAULT_SHADOW_IMAGE,
      source: 'default',
    })
    expect(resolveSetting('context', { env, file })).toEqual({
      key: 'context',
      value: undefined,
      source: 'default',
    })
  })
})

describe('the config file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(userConfigPath('/x')).toBe('/x/ktx/config.json')
    expect(userConfigPath('')).toMatch(/\/\.config\/ktx\/config\.json$/)
    expect(userConfigPath(undefined)).toMatch(/\/\.config\/ktx\/config\.json$/)
  })

  it('is created on the first set, keeps other settings, and unset removes one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ktx-config-')), 'ktx', 'config.json')
    expect(await readUserConfig(path)).toEqual({})
    await updateUserConfig(path, 'image', 'a/b:1')
    await updateUserConfig(path, 'namespace', 'team')
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ image: 'a/b:1', namespace: 'team' })
    await updateUserConfig(path, 'image', undefined)
    expect(await readUserConfig(path)).toEqual({ namespace: 'team' })
  })

  it('refuses a broken file and unknown keys with KTX_CONFIG_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktx-config-'))
    writeFileSync(join(dir, 'bad.json'), '{nope')
    await expect(readUserConfig(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'KTX_CONFIG_INVALID' })
    writeFileSync(join(dir, 'unknown.json'), '{"colour":"red"}')
    await expect(readUserConfig(join(dir, 'unknown.json'))).rejects.toMatchObject({
      code: 'KTX_CONFIG_INVALID',
      message: expect.stringContaining('colour') as string,
    })
  })

  it('checks names and values', () => {
    expect(checkSetting('image', 'x/y:1')).toBe('image')
    expect(() => checkSetting('colour', 'red')).toThrow(/Unknown setting/)
    expect(() => checkSetting('image', 'a b')).toThrow(/one word/)
  })
})
