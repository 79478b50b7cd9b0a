// Bearer-token check for admin writes, in constant time.

import { timingSafeEqual, createHash } from 'node:crypto'

/** True when the Authorization header carries `Bearer <token>`. Hashing first makes lengths equal. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? ''
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0
}
