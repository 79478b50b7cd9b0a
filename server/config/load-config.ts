// Reads signpost.yaml (the `yaml` package keeps node positions) and validates it against the
// schema (ajv); every problem names the file, the line and the field.

import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { Ajv, type ErrorObject } from 'ajv'
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import type { Problem } from '../common/problem.ts'
import { parseListenAddress, parseNetwork } from '../common/address.ts'
import { configSchema, type Config } from './schema.ts'

/** Where a key path of the config sits, for problems found after validation (cross-checks with zones). */
export type ConfigLocator = (path: readonly string[]) => { readonly file: string; readonly line: number }

export type ConfigResult = { readonly ok: true; readonly config: Config; readonly locate: ConfigLocator } | { readonly ok: false; readonly problems: readonly Problem[] }

const ajv = new Ajv({ allErrors: true })
ajv.addFormat('listen-address', (text: string) => parseListenAddress(text).ok)
ajv.addFormat('ip', (text: string) => isIP(text) !== 0)
ajv.addFormat('cidr', (text: string) => parseNetwork(text) !== undefined)
const validate = ajv.compile<Config>(configSchema)

export function loadConfig(file: string): ConfigResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return { ok: false, problems: [{ code: 'io', file, line: 0, message: `cannot read config: ${(error as Error).message}` }] }
  }
  return parseConfig(file, text)
}

export function parseConfig(file: string, text: string): ConfigResult {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ code: 'config' as const, file, line: lineOf(e.pos[0]), message: e.message.split('\n')[0] as string })) }
  }
  const value: unknown = doc.toJS() ?? {}
  if (validate(value)) {
    const locate: ConfigLocator = (path) => {
      const node = nodeAt(doc.contents, path)
      return { file, line: node?.range ? lineOf(node.range[0]) : 1 }
    }
    return { ok: true, config: value, locate }
  }
  // An `if` error only says its branch failed; that branch's own errors say where and why.
  const problems = (validate.errors ?? []).filter((error) => error.keyword !== 'if').map((error): Problem => {
    const path = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const extra = error.keyword === 'additionalProperties' ? error.params['additionalProperty'] : error.keyword === 'required' ? error.params['missingProperty'] : undefined
    const field = extra === undefined ? path : [...path, String(extra)]
    const node = nodeAt(doc.contents, field) ?? nodeAt(doc.contents, path)
    return { code: 'config', file, line: node?.range ? lineOf(node.range[0]) : 1, message: `${field.join('.') || '(top level)'}: ${describe(error, value, path)}` }
  })
  return { ok: false, problems }
}

function describe(error: ErrorObject, root: unknown, path: readonly string[]): string {
  const actual = path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], root)
  switch (error.keyword) {
    case 'additionalProperties':
      return 'unknown key (a typo?)'
    case 'format':
      if (error.params['format'] === 'ip') return `'${String(actual)}' is not an IP address`
      if (error.params['format'] === 'cidr') return `'${String(actual)}' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)`
      return error.params['format'] === 'listen-address' ? `'${String(actual)}' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)` : `'${String(actual)}' ${error.message ?? 'is invalid'}`
    case 'required':
      return `'${String(error.params['missingProperty'])}' is required`
    case 'propertyName':
      return `'${String(error.params['propertyName'])}' is not a valid name`
    case 'enum':
      return `'${String(actual)}' is not one of ${(error.params['allowedValues'] as unknown[]).join(', ')}`
    default:
      return `${JSON.stringify(actual)} ${error.message ?? 'is invalid'}`
  }
}

/** The YAML node at a path of keys and indexes, for its line. */
function nodeAt(root: unknown, path: readonly string[]): Node | undefined {
  let node = root as Node | undefined
  for (const [index, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => String((item.key as { value?: unknown } | null)?.value ?? item.key) === key)
      // The last map key points at its own line: a nested map's value starts on the next one.
      node = (index === path.length - 1 ? pair?.key : pair?.value) as Node | undefined
    } else if (isSeq(node)) {
      node = node.items[Number(key)] as Node | undefined
    } else return node
  }
  return node
}
