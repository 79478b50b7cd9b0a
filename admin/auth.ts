// Bearer-token check for admin writes, in constant time.

import { timingSafeEqual, createHash } from 'node:crypto'

/** True when the Authorization header carries `Bearer <token>`. Hashing first makes lengths equal. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? ''
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0
}

/** The name of the token the request presents, if any matches (every token is compared). */
export function authenticate(header: string | undefined, tokens: ReadonlyMap<string, string>): string | undefined {
  let who: string | undefined
  for (const [name, token] of tokens) if (bearerMatches(header, token) && who === undefined) who = name
  return who
}
