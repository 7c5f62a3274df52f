import { createKeyward, MemoryStore } from '../../packages/core/src/index.ts'
import { runConformance } from './suite.ts'

runConformance('MemoryStore', (options) => createKeyward({ ...options, store: new MemoryStore() }))
