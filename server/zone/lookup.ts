// Pure name lookup inside one zone's node map, by key (see dns/name.ts). Used at compile time to
// chase CNAMEs and at query time to find the node that answers.

/**
 * The closest encloser of `key` (RFC 4592 §3.3.1): the node for `key` itself when it exists,
 * else its nearest existing ancestor. `key` must be at or below the apex, which is always a node.
 * `apexKey`, the zone's own key, is looked up as it is when reached: a slice would be a new string
 * to hash, on the path every NXDOMAIN name below the apex takes.
 */
export function closestEncloser<N>(nodes: ReadonlyMap<string, N>, key: string, apexKey = ''): { readonly node: N; readonly exact: boolean; readonly offset: number } {
  let offset = 0
  for (;;) {
    const node = nodes.get(offset === 0 ? key : key.length - offset === apexKey.length ? apexKey : key.slice(offset))
    if (node !== undefined) return { node, exact: offset === 0, offset }
    offset += key.charCodeAt(offset) + 1
  }
}

/** Key of the wildcard child `*.<parent>`. */
export function wildcardKey(parentKey: string): string {
  return '\x01*' + parentKey
}
