#!/usr/bin/env node
// The `keyward` executable: runs the CLI on this process and exits with its code.
import { processIo } from './io.ts'
import { run } from './program.ts'

process.exitCode = await run(process.argv.slice(2), processIo())
