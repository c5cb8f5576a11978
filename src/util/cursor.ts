/**
 * A bounds-checked reader over a byte array. Every failure names the absolute
 * offset (base + position) so that a message can point at the byte in the file
 * or in the packet.
 */
export class DecodeError extends Error {
  constructor(
    message: string,
    /** Absolute offset of the offending byte (file offset or offset inside a packet). */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

export class ByteCursor {
  private readonly view: DataView;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Added to positions in error messages, e.g. the file offset of `bytes[0]`. */
    readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new DecodeError(
        `${what}: need ${n} byte(s) at offset ${this.base + this.pos}, only ${this.remaining} left`,
        this.base + this.pos,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16le(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u16be(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  u32le(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u32be(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  bytesN(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.pos);
    this.pos = this.bytes.length;
    return out;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.pos += n;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex, no separators (the NDJSON `value`/`raw` format). */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 12) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not a hex string: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
