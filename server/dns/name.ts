// Domain names as values: absolute wire form (RFC 1035 §3.1) in the case they were written,
// and a lookup key (the ASCII-lowercased wire form as a latin1 string) that query decoding can
// build straight from packet bytes. A suffix of a key that starts at a label boundary is the key
// of that ancestor name, so walking up the tree is slicing, not re-encoding.

export type NameResult = { readonly ok: true; readonly wire: Uint8Array } | { readonly ok: false; readonly message: string }

export const MAX_NAME_WIRE = 255
export const MAX_LABEL = 63
export const ROOT_WIRE: Uint8Array = Uint8Array.of(0)

/** The lookup key of a wire-form name: ASCII letters lowercased (RFC 4343), other bytes as they are. */
export function nameKey(wire: Uint8Array, start = 0, end = wire.length): string {
  for (let i = start; i < end; i++) {
    const b = wire[i] as number
    keyScratch[i - start] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b
  }
  return keyScratch.toString('latin1', 0, end - start)
}

// Scratch for nameKey; it is used synchronously, so one buffer serves every call.
const keyScratch = Buffer.allocUnsafe(65536)

/** Offsets of each label's length byte in a key or wire name, apex (root) last. */
export function labelOffsets(wire: Uint8Array): number[] {
  const offsets: number[] = []
  let off = 0
  while (off < wire.length && wire[off] !== 0) {
    offsets.push(off)
    off += (wire[off] as number) + 1
  }
  offsets.push(off)
  return offsets
}

/** Length of the uncompressed wire name at `at`, or -1 when the bytes there are not one. */
export function wireNameLength(bytes: Uint8Array, at: number): number {
  let off = at
  for (;;) {
    const len = bytes[off]
    if (len === undefined || len > MAX_LABEL) return -1
    off += len + 1
    if (off - at > MAX_NAME_WIRE) return -1
    if (len === 0) return off - at
  }
}

/** True when `name` equals `ancestor` or lies below it (case-insensitive). */
export function isSubdomain(name: Uint8Array, ancestor: Uint8Array): boolean {
  if (ancestor.length > name.length) return false
  const start = name.length - ancestor.length
  if (!labelOffsets(name).includes(start)) return false
  return nameKey(name, start) === nameKey(ancestor)
}

export function parentName(wire: Uint8Array): Uint8Array {
  return wire[0] === 0 ? wire : wire.subarray((wire[0] as number) + 1)
}

export function concatNames(relative: Uint8Array, origin: Uint8Array): Uint8Array {
  // `relative` ends with its root byte, which is dropped.
  const out = new Uint8Array(relative.length - 1 + origin.length)
  out.set(relative.subarray(0, relative.length - 1), 0)
  out.set(origin, relative.length - 1)
  return out
}

/**
 * Parses a presentation-format name (RFC 1035 §5.1): `@`, relative names completed with `origin`,
 * absolute names ending in `.`, and `\.` / `\DDD` escapes inside labels.
 */
export function parseName(text: string, origin: Uint8Array | undefined): NameResult {
  if (text === '@') return origin ? { ok: true, wire: origin } : { ok: false, message: "'@' used with no origin set" }
  if (text === '.') return { ok: true, wire: ROOT_WIRE }
  if (!text.includes('\\')) return parsePlainName(text, origin)
  const labels: number[][] = []
  let label: number[] = []
  let absolute = false
  const bytes = Buffer.from(text, 'utf8')
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number
    if (c === 0x2e /* . */) {
      if (label.length === 0) return { ok: false, message: `empty label in name '${text}'` }
      labels.push(label)
      label = []
      if (i === bytes.length - 1) absolute = true
    } else if (c === 0x5c /* \ */) {
      const decoded = decodeEscape(bytes, i)
      if (!decoded.ok) return { ok: false, message: `${decoded.message} in name '${text}'` }
      label.push(decoded.byte)
      i = decoded.next - 1
    } else {
      label.push(c)
    }
  }
  if (label.length > 0) labels.push(label)
  if (labels.some((l) => l.length > MAX_LABEL)) return { ok: false, message: `label longer than ${MAX_LABEL} bytes in name '${text}'` }
  const relative = Uint8Array.from([...labels.flatMap((l) => [l.length, ...l]), 0])
  let wire: Uint8Array = relative
  if (!absolute) {
    if (!origin) return { ok: false, message: `relative name '${text}' used with no origin set` }
    wire = concatNames(relative, origin)
  }
  if (wire.length > MAX_NAME_WIRE) return { ok: false, message: `name '${text}' is longer than ${MAX_NAME_WIRE} bytes` }
  return { ok: true, wire }
}

/** parseName for the common case, a name with no escapes: split on dots, no per-byte work. */
function parsePlainName(text: string, origin: Uint8Array | undefined): NameResult {
  const absolute = text.endsWith('.')
  const labels = (absolute ? text.slice(0, -1) : text).split('.')
  const bytes = labels.map((label) => Buffer.from(label, 'utf8'))
  if (bytes.some((label) => label.length === 0)) return { ok: false, message: `empty label in name '${text}'` }
  if (bytes.some((label) => label.length > MAX_LABEL)) return { ok: false, message: `label longer than ${MAX_LABEL} bytes in name '${text}'` }
  if (!absolute && !origin) return { ok: false, message: `relative name '${text}' used with no origin set` }
  const suffix = absolute ? ROOT_WIRE : (origin as Uint8Array)
  const length = bytes.reduce((sum, label) => sum + label.length + 1, 0) + suffix.length
  if (length > MAX_NAME_WIRE) return { ok: false, message: `name '${text}' is longer than ${MAX_NAME_WIRE} bytes` }
  // allocUnsafe slices Node's shared pool: no malloc per name, which a 100,000-name zone would feel.
  const wire = Buffer.allocUnsafe(length)
  let at = 0
  for (const label of bytes) {
    wire[at] = label.length
    wire.set(label, at + 1)
    at += label.length + 1
  }
  wire.set(suffix, at)
  return { ok: true, wire }
}

export type EscapeResult = { readonly ok: true; readonly byte: number; readonly next: number } | { readonly ok: false; readonly message: string }

/** Decodes the escape starting at `bytes[at]` (a backslash): `\DDD` (decimal byte) or `\X` (X literally). */
export function decodeEscape(bytes: Uint8Array, at: number): EscapeResult {
  const first = bytes[at + 1]
  if (first === undefined) return { ok: false, message: 'dangling backslash' }
  if (isDigit(first)) {
    const d2 = bytes[at + 2]
    const d3 = bytes[at + 3]
    if (d2 === undefined || d3 === undefined || !isDigit(d2) || !isDigit(d3)) return { ok: false, message: '\\DDD escape needs three digits' }
    const value = (first - 48) * 100 + (d2 - 48) * 10 + (d3 - 48)
    if (value > 255) return { ok: false, message: `\\${value} is not a byte` }
    return { ok: true, byte: value, next: at + 4 }
  }
  return { ok: true, byte: first, next: at + 2 }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** Presentation form of a wire name, absolute, with the escapes RFC 4343 §2.1 asks for. */
export function nameToText(wire: Uint8Array): string {
  if (wire[0] === 0) return '.'
  let text = ''
  let off = 0
  while (wire[off] !== 0) {
    const len = wire[off] as number
    for (let i = off + 1; i <= off + len; i++) {
      const b = wire[i] as number
      if (b === 0x2e || b === 0x5c || b === 0x22 || b === 0x28 || b === 0x29 || b === 0x3b || b === 0x40 || b === 0x24) text += '\\' + String.fromCharCode(b)
      else if (b <= 0x20 || b >= 0x7f) text += '\\' + String(b).padStart(3, '0')
      else text += String.fromCharCode(b)
    }
    text += '.'
    off += len + 1
  }
  return text
}
