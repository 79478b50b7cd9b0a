// Reads a keys folder: every `K*.key` with its `.private`, parsed by key-file.ts. A private file
// that its group or others may read is named in a warning (BIND writes them 0600).

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Problem } from '../common/problem.ts'
import { parseKeyFiles, type ZoneKey } from './key-file.ts'

export type KeyFolder = { readonly keys: readonly ZoneKey[]; readonly problems: readonly Problem[]; readonly warnings: readonly string[] }

export function loadKeyFolder(dir: string): KeyFolder {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    return { keys: [], problems: [{ code: 'io', file: dir, line: 0, message: `cannot read the keys folder: ${(error as NodeJS.ErrnoException).code ?? 'error'}` }], warnings: [] }
  }
  const keys: ZoneKey[] = []
  const problems: Problem[] = []
  const warnings: string[] = []
  for (const name of names.filter((n) => /^K.*\.key$/.test(n)).sort()) {
    const keyFile = join(dir, name)
    const privateFile = keyFile.replace(/\.key$/, '.private')
    let keyText: string
    let privateText: string
    try {
      keyText = readFileSync(keyFile, 'utf8')
      privateText = readFileSync(privateFile, 'utf8')
    } catch (error) {
      const err = error as NodeJS.ErrnoException
      problems.push({ code: 'io', file: err.path ?? keyFile, line: 0, message: `cannot read key file: ${err.code ?? 'error'}` })
      continue
    }
    const mode = statSync(privateFile).mode
    if ((mode & 0o077) !== 0) warnings.push(`${privateFile}: private key file is readable by its group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`)
    const parsed = parseKeyFiles(keyFile, keyText, privateFile, privateText)
    if (parsed.ok) keys.push(parsed.key)
    else problems.push(...parsed.problems)
  }
  return { keys, problems, warnings }
}
