/** Test doubles for code built on `@ktx/core`. */
export { type FakeResponse, RecordingHost } from './recording-host.js'
export { type FakeApis, fakeKube } from './fake-kube.js'
export { streamPair } from './stream-pair.js'
