import { describe, expect, it } from 'vitest'

import { type CacheDirContext, compileCacheDir } from './compile-cache.js'

const context = (env: NodeJS.ProcessEnv, uid = 1000): CacheDirContext => ({
  env,
  uid,
  home: () => '/home/ada',
  accountHome: () => '/root',
})

describe('compileCacheDir', () => {
  it('lives under ~/.cache/ktx', () => {
    expect(compileCacheDir(context({}))).toBe('/home/ada/.cache/ktx/compile-cache')
  })

  it('follows XDG_CACHE_HOME when it is absolute', () => {
    expect(compileCacheDir(context({ XDG_CACHE_HOME: '/var/cache/ada' }))).toBe(
      '/var/cache/ada/ktx/compile-cache',
    )
    // The XDG spec says to ignore a relative path.
    expect(compileCacheDir(context({ XDG_CACHE_HOME: 'cache' }))).toBe('/home/ada/.cache/ktx/compile-cache')
  })

  it("under sudo, is root's own even when HOME and XDG_CACHE_HOME are the user's", () => {
    const env = { SUDO_UID: '1000', XDG_CACHE_HOME: '/home/ada/.cache' }
    expect(compileCacheDir(context(env, 0))).toBe('/root/.cache/ktx/compile-cache')
  })

  it('root without sudo uses its environment as anyone else', () => {
    expect(compileCacheDir(context({ XDG_CACHE_HOME: '/srv/cache' }, 0))).toBe('/srv/cache/ktx/compile-cache')
  })
})
