#!/usr/bin/env node
import v8 from 'node:v8'

// Every byte through the tunnel passes through short-lived Buffers (TLS records, WebSocket
// messages, SSH packets). By default V8 answers their external memory with a full mark of the
// whole heap every few tens of MB moved, which cost as much CPU as the data path itself; counted
// in the global heap limit instead, those GCs mostly go away (bench: ktx's CPU per GB moved
// 6.0-6.2 -> 2.7-3.3 s). Set before anything else loads: set later, it did not always take.
v8.setFlagsFromString('--external-memory-accounted-in-global-limit')
// Before oclif and the commands load, so their compiled code comes from (and goes to) the cache.
const { enableCompileCache } = await import('../dist/startup/compile-cache.js')
enableCompileCache()
const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
