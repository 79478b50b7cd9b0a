// Master-file lexer (RFC 1035 §5.1): splits text into entries, one per logical line. Parentheses
// join physical lines, `;` starts a comment, quotes group blanks, and a backslash escapes the next
// character. Escapes are kept raw in the token text so that names and strings decode them by
// their own rules; every entry keeps the line it started on for error messages.

export type Token = { readonly text: string; readonly quoted: boolean }

export type Entry = {
  readonly line: number
  /** True when the entry starts with a blank: the owner is omitted and the previous one applies. */
  readonly ownerOmitted: boolean
  readonly tokens: readonly Token[]
}

export type LexProblem = { readonly line: number; readonly message: string; readonly tokens?: undefined }

/**
 * Entries one at a time, so a large zone's tokens never all exist at once; a problem ends the
 * file (what follows it can't be read reliably).
 */
export function* lexMasterFile(text: string): Generator<Entry | LexProblem, void, undefined> {
  let tokens: Token[] = []
  let entryLine = 1
  let ownerOmitted = false
  let depth = 0
  let depthOpenedOn = 0
  let line = 1
  let atLineStart = true
  let i = 0

  while (i < text.length) {
    const c = text[i] as string
    if (atLineStart && depth === 0) {
      entryLine = line
      ownerOmitted = c === ' ' || c === '\t'
      atLineStart = false
    }
    if (c === '\n') {
      line++
      i++
      if (depth === 0) {
        if (tokens.length > 0) yield { line: entryLine, ownerOmitted, tokens }
        tokens = []
        atLineStart = true
      }
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      continue
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++
      continue
    }
    if (c === '(') {
      if (depth === 0) depthOpenedOn = line
      depth++
      i++
      continue
    }
    if (c === ')') {
      if (depth === 0) return yield { line, message: "')' without a matching '('" }
      depth--
      i++
      continue
    }
    if (c === '"') {
      const start = ++i
      for (;;) {
        const q = text[i]
        if (q === undefined || q === '\n') return yield { line, message: 'unterminated quoted string' }
        if (q === '"') break
        if (q === '\\') {
          if (text[i + 1] === undefined) return yield { line, message: 'dangling backslash' }
          i += 2
          continue
        }
        i++
      }
      tokens.push({ text: text.slice(start, i), quoted: true })
      i++
      continue
    }
    // A bare token: escapes stay raw in the text, so it is a plain slice of the input.
    const start = i
    while (i < text.length) {
      const w = text[i] as string
      if (w === ' ' || w === '\t' || w === '\r' || w === '\n' || w === ';' || w === '(' || w === ')' || w === '"') break
      if (w === '\\') {
        const next = text[i + 1]
        if (next === undefined || next === '\n') return yield { line, message: 'dangling backslash' }
        i += 2
        continue
      }
      i++
    }
    tokens.push({ text: text.slice(start, i), quoted: false })
  }
  if (depth > 0) return yield { line: depthOpenedOn, message: "'(' is never closed" }
  if (tokens.length > 0) yield { line: entryLine, ownerOmitted, tokens }
}
