// Tests and benchmarks need a few Debian tools (dig, kdig, dnsperf, named-checkzone). Install the
// packages that provide any missing command, once, as README's `npm test` promises.

import { execFileSync, spawnSync } from 'node:child_process'

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/** command → Debian package(s), space-separated, that provide it. */
export function ensureDebianPackages(commands: Readonly<Record<string, string>>): void {
  const missing = [...new Set(Object.entries(commands).filter(([command]) => !has(command)).flatMap(([, pkgs]) => pkgs.split(' ')))]
  if (missing.length === 0) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
}
