// JSON text read where it may be anything (etcd keys, audit lines, replies from other hosts).

/** The value `text` holds, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
