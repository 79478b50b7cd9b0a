// Bearer-token check for admin requests, in constant time, and what each role may do.

import { timingSafeEqual, createHash } from 'node:crypto'
import type { AdminToken, Role } from '../server/state/control.ts'

/** True when the Authorization header carries `Bearer <token>` (the scheme in any case, RFC 9110 §11.1). Hashing first makes lengths equal. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? ''
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0
}

/** The name and role of the token the request presents, if any matches (every token is compared). */
export function authenticate(header: string | undefined, tokens: ReadonlyMap<string, AdminToken>): { readonly name: string; readonly role: Role } | undefined {
  let who: { name: string; role: Role } | undefined
  for (const [name, { token, role }] of tokens) if (bearerMatches(header, token) && who === undefined) who = { name, role }
  return who
}

const RANK: Readonly<Record<Role, number>> = { read: 0, operate: 1, admin: 2 }

/** True when a token of role `held` may do what needs `needed`. */
export function allows(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed]
}
