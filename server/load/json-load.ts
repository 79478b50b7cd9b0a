// A URL that says its site's load as JSON: the number at a dotted path (default `load`), which
// must be from 0 to 1. Pure.

import { parseJson } from '../common/json.ts'

export type JsonLoad = { readonly ok: true; readonly utilisation: number } | { readonly ok: false; readonly problem: string }

export function jsonLoad(text: string, field: string): JsonLoad {
  let value = parseJson(text)
  if (value === undefined) return { ok: false, problem: 'the reply is not JSON' }
  for (const key of field.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, problem: `no number at '${field}'` }
  if (value < 0 || value > 1) return { ok: false, problem: `'${field}' is ${value}, not a utilisation from 0 to 1` }
  return { ok: true, utilisation: value }
}
