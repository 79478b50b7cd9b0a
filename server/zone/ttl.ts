// TTL values in master files: plain seconds or BIND-style units (1w2d3h4m5s, case-insensitive).

/** Largest TTL allowed (RFC 2181 §8). */
export const MAX_TTL = 2147483647

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** Parses a TTL; undefined when `text` is not a TTL or is out of range. */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text)
    return value <= MAX_TTL ? value : undefined
  }
  const units = /^(?:\d+[smhdw])+$/i
  if (!units.test(text)) return undefined
  let total = 0
  for (const [, count, unit] of text.toLowerCase().matchAll(/(\d+)([smhdw])/g)) {
    total += Number(count) * (unitSeconds[unit as string] as number)
  }
  return total <= MAX_TTL ? total : undefined
}

/** True when a token is meant as a TTL (starts with a digit), even if out of range. */
export function looksLikeTtl(text: string): boolean {
  return /^\d/.test(text)
}
