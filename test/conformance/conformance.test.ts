import { createKeyward, MemoryStore } from '@keyward/core'
import { runConformance } from './suite.ts'

runConformance('MemoryStore', (options) => createKeyward({ ...options, store: new MemoryStore() }))
