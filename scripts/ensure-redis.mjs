// Makes sure `redis-server` and `redis-cli` are on PATH before the tests start: the Redis suites
// start real servers. As root with apt-get it installs them; otherwise it stops at once with the
// exact command to run. It never lets the suite silently skip Redis.
import { execFileSync, spawnSync } from 'node:child_process'

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0

if (has('redis-server') && has('redis-cli')) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (isRoot && has('apt-get')) {
  console.log(
    '[keyward] redis-server not found: installing it with apt-get (needed by the Redis test suites)',
  )
  execFileSync(
    'sh',
    ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'],
    {
      stdio: 'inherit',
    },
  )
  if (has('redis-server') && has('redis-cli')) process.exit(0)
}
console.error(
  '[keyward] the tests need redis-server and redis-cli (Redis ≥ 7). Install them, then run `pnpm test` again:\n' +
    '  Debian/Ubuntu: sudo apt-get install -y redis-server\n' +
    '  macOS:         brew install redis',
)
process.exit(1)
