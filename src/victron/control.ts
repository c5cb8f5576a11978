/**
 * The Control characteristic (306b0002): flow control and chunk negotiation, not CBOR
 * (protocol.md, "Control characteristic").
 */
export interface ControlInfo {
  name: string;
  meaning: string;
  params: Record<string, number | string>;
  known: boolean;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function decodeControl(b: Uint8Array, opts: { read?: boolean } = {}): ControlInfo {
  if (opts.read) return { name: 'negotiation data', meaning: `Control read right after connecting: ${hex(b)}`, params: { hex: hex(b) }, known: true };
  const op = b[0];
  if (op === 0xfa && b.length === 3) return { name: 'chunk size negotiation', meaning: `chunk size negotiation: 0x${b[1]!.toString(16)} 0x${b[2]!.toString(16)}`, params: { a: b[1]!, b: b[2]! }, known: true };
  if (op === 0xf9 && b.length === 2) return { name: 'ready to receive', meaning: `ready to receive: ${b[1]} free chunk(s)`, params: { credit: b[1]! }, known: true };
  if (op === 0xf8 && b.length === 1) return { name: 'clear receive buffer', meaning: 'clear the receive buffer', params: {}, known: true };
  if (op === 0xf7 && b.length >= 2 && b.length <= 3) {
    const code = b.length === 3 ? b[1]! | (b[2]! << 8) : b[1]!;
    return { name: 'error', meaning: `error code ${code}`, params: { code }, known: true };
  }
  return { name: 'unknown control', meaning: `unknown Control bytes ${hex(b)}`, params: { hex: hex(b) }, known: false };
}
