import { describe, expect, it } from 'vitest'

import { annotationOps, guard, labelOps, pointerKey } from './json-patch.js'

describe('JSON patch builders', () => {
  it('escapes annotation keys for JSON Pointer paths', () => {
    expect(pointerKey('ktx.dev/lock')).toBe('ktx.dev~1lock')
    expect(pointerKey('a~b/c')).toBe('a~0b~1c')
  })

  it('guards with the resourceVersion read, and not at all without one', () => {
    expect(guard('42')).toEqual([{ op: 'replace', path: '/metadata/resourceVersion', value: '42' }])
    expect(guard(undefined)).toEqual([])
  })

  it('creates the annotations map when the object has none', () => {
    expect(annotationOps(undefined, { 'ktx.dev/lock': '{}' })).toEqual([
      { op: 'add', path: '/metadata/annotations', value: { 'ktx.dev/lock': '{}' } },
    ])
  })

  it('adds, replaces and removes single keys, leaving the user’s annotations alone', () => {
    const current = { team: 'a', 'ktx.dev/lock': 'old', 'ktx.dev/original-selector': 'x' }
    expect(
      annotationOps(current, {
        'ktx.dev/lock': 'new',
        'ktx.dev/original-selector': undefined,
        'ktx.dev/other': 'v',
        'ktx.dev/missing': undefined,
      }),
    ).toEqual([
      { op: 'replace', path: '/metadata/annotations/ktx.dev~1lock', value: 'new' },
      { op: 'remove', path: '/metadata/annotations/ktx.dev~1original-selector' },
      { op: 'add', path: '/metadata/annotations/ktx.dev~1other', value: 'v' },
    ])
  })

  it('removes the whole map when ktx’s keys were the only ones, so the object ends as it began', () => {
    expect(annotationOps({ 'ktx.dev/lock': 'x' }, { 'ktx.dev/lock': undefined })).toEqual([
      { op: 'remove', path: '/metadata/annotations' },
    ])
    expect(annotationOps(undefined, { 'ktx.dev/lock': undefined })).toEqual([])
  })

  it('adds labels to an existing map or creates it', () => {
    expect(labelOps({ app: 'web' }, { app: 'web', tier: 'x' })).toEqual([
      { op: 'replace', path: '/metadata/labels/app', value: 'web' },
      { op: 'add', path: '/metadata/labels/tier', value: 'x' },
    ])
    expect(labelOps(undefined, { app: 'web' })).toEqual([
      { op: 'add', path: '/metadata/labels', value: { app: 'web' } },
    ])
  })
})
