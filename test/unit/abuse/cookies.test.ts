// DNS Cookies: RFC 9018's own test vector, and the checks RFC 7873 §5.2 asks of a server.

import { describe, expect, it } from 'vitest'
import { checkCookie, CookieCheck, makeServerCookie } from '../../../server/abuse/cookies.ts'
import { defenceSettings, PREVIOUS_SECRET_S, type CookieSecrets } from '../../../server/abuse/settings.ts'
import { readClientAddress } from '../../../server/abuse/client-address.ts'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const SECRET = hex('e5e973e5a6b2a43f48e7dc849e37bfcf')
const CLIENT = hex('2464c4abcf10c957')
const ADDRESS = Uint8Array.from([198, 51, 100, 100])
const T = 1559731985
const secrets: CookieSecrets = { current: SECRET, previous: undefined, previousUntil: 0 }

function check(option: Uint8Array, nowS: number, address = ADDRESS, using = secrets): { result: number; cookie: string } {
  const out = new Uint8Array(16)
  const result = checkCookie(using, option, 0, option.length, address, address.length, nowS, out)
  return { result, cookie: toHex(out) }
}

describe('dns cookies', () => {
  it('makes the server cookie of RFC 9018 appendix A.1', () => {
    const out = new Uint8Array(16)
    makeServerCookie(SECRET, CLIENT, 0, T, ADDRESS, 4, out)
    expect(toHex(out)).toBe('010000005cf79f111f8130c3eee29480')
  })

  it('a client cookie alone gets a fresh server cookie', () => {
    expect(check(CLIENT, T)).toEqual({ result: CookieCheck.new, cookie: '010000005cf79f111f8130c3eee29480' })
  })

  it('accepts its own cookie for an hour and 5 minutes ahead, echoing it for half an hour, then renewing it', () => {
    const option = hex('2464c4abcf10c957010000005cf79f111f8130c3eee29480')
    expect(check(option, T + 10)).toEqual({ result: CookieCheck.valid, cookie: '010000005cf79f111f8130c3eee29480' })
    expect(check(option, T - 299).result).toBe(CookieCheck.valid)
    const renewed = check(option, T + 1801)
    expect(renewed.result).toBe(CookieCheck.valid)
    expect(renewed.cookie.slice(8, 16)).toBe((T + 1801).toString(16))
    expect(check(option, T + 3601).result).toBe(CookieCheck.invalid)
    expect(check(option, T - 301).result).toBe(CookieCheck.invalid)
  })

  it('rejects a cookie made for another address, client cookie or secret, or of another version', () => {
    const option = hex('2464c4abcf10c957010000005cf79f111f8130c3eee29480')
    expect(check(option, T, Uint8Array.from([198, 51, 100, 101])).result).toBe(CookieCheck.invalid)
    expect(check(hex('2464c4abcf10c958010000005cf79f111f8130c3eee29480'), T).result).toBe(CookieCheck.invalid)
    expect(check(option, T, ADDRESS, { ...secrets, current: hex('00'.repeat(16)) }).result).toBe(CookieCheck.invalid)
    expect(check(hex('2464c4abcf10c957020000005cf79f111f8130c3eee29480'), T).result).toBe(CookieCheck.invalid)
    // A server cookie of another length (8 to 32 bytes are well-formed) is not one of ours.
    expect(check(hex('2464c4abcf10c957' + 'ab'.repeat(8)), T).result).toBe(CookieCheck.invalid)
  })

  it('a changed secret keeps the one before it accepted for an hour', () => {
    const generated = hex('11'.repeat(16))
    const first = defenceSettings({ cookies: { secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf' } }, undefined, T, generated)
    const rotated = defenceSettings({ cookies: { secret: 'ff'.repeat(16) } }, first, T + 60, generated)
    const option = hex('2464c4abcf10c957010000005cf79f111f8130c3eee29480')
    expect(check(option, T + 60, ADDRESS, rotated.cookies!).result).toBe(CookieCheck.valid)
    expect(rotated.cookies!.previousUntil).toBe(T + 60 + PREVIOUS_SECRET_S)
    // Its cookie is renewed under the new secret.
    const out = new Uint8Array(16)
    makeServerCookie(hex('ff'.repeat(16)), CLIENT, 0, T + 60, ADDRESS, 4, out)
    const renewed = defenceSettings({ cookies: { secret: 'ff'.repeat(16) } }, rotated, T + 60 + PREVIOUS_SECRET_S, generated)
    expect(renewed.cookies!.previous).toBeUndefined()
    expect(check(option, T + 120, ADDRESS, renewed.cookies!).result).toBe(CookieCheck.invalid)
    // Without a secret in the config, the one made at start; cookies off, none.
    expect(defenceSettings({}, undefined, T, generated).cookies!.current).toBe(generated)
    expect(defenceSettings({ cookies: { enabled: false } }, undefined, T, generated).cookies).toBeUndefined()
    expect(defenceSettings({ rrl: { responses_per_second: 0 } }, undefined, T, generated).rrl).toBeUndefined()
  })

  it('reads client addresses into bytes, IPv4 and IPv6, and nothing from text that is no address', () => {
    const into = new Uint8Array(16)
    expect(readClientAddress('198.51.100.100', into)).toBe(4)
    expect([...into.subarray(0, 4)]).toEqual([198, 51, 100, 100])
    expect(readClientAddress('2001:db8::1', into)).toBe(16)
    expect(toHex(into)).toBe('20010db8000000000000000000000001')
    for (const bad of ['1.2.3', '1.2.3.256', '1..2.3', 'x', '1.2.3.4.5', ':::']) expect(readClientAddress(bad, into)).toBe(0)
  })
})
