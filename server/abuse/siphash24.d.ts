// Types for the `siphash24` package (mafintosh/siphash24), which ships none.
declare module 'siphash24' {
  /** SipHash-2-4 of `data` under a 16-byte `key`, written to `out` (8 bytes, made when not given). */
  function siphash24(data: Uint8Array, key: Uint8Array, out?: Uint8Array, noAssert?: boolean): Uint8Array
  export default siphash24
}
