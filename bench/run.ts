/**
 * `pnpm bench`: builds the packages, then runs every `bench/*.bench.ts` in turn against the built
 * packages (what users install), each in its own process so one suite's
 * garbage and JIT state do not colour the next. Each suite prints its own markdown table; copy
 * them into BENCHMARKS.md with the date and machine. `pnpm bench core` runs only matching suites;
 * `pnpm bench soak` the soak and `pnpm bench instructions` the callgrind counts, which plain
 * `pnpm bench` leaves out.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
// The soak and the instruction counts run only when named (`pnpm bench soak`, `pnpm bench
// instructions`): they take minutes (the counts need valgrind), and CI never runs them.
const onlyWhenNamed = ['soak', 'instructions']
const suites = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) =>
    filters.length === 0
      ? !onlyWhenNamed.some((name) => file.includes(name))
      : filters.some((filter) => file.includes(filter)),
  )
  .sort()

// The suites import the packages by name, which resolves to their built `dist/` — what `pnpm pack`
// ships and users run — so build them first.
const build = spawnSync('pnpm', ['build'], { encoding: 'utf8' })
if (build.status !== 0) {
  console.error(build.stdout, build.stderr)
  process.exit(1)
}
console.log(`# keyward benchmarks — ${new Date().toISOString()}`)
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}\n`)
let failed = false
for (const suite of suites) {
  console.log(`## ${suite}\n`)
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, suite)], { stdio: 'inherit' })
  if (run.status !== 0) failed = true
  console.log('')
}
process.exit(failed ? 1 : 0)
