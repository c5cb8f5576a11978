/**
 * Victron message framing (protocol.md, "Message framing"): a message is a CBOR unsigned opcode
 * followed by a fixed number of opcode-specific CBOR items. Parsing never throws and is tolerant:
 * a message whose parameters have unexpected shapes is still framed (its bytes are known) and
 * carries `problems`; `shapeOk` says whether every parameter had the CBOR type its opcode takes
 * (false suggests bytes that are not really a message: the stream reports those as unknown).
 */
import { inflateCapped } from '../util/inflate.js';
import { cborToJs, readItem, type CborItem } from './cbor.js';

/** What a parameter must be: a CBOR unsigned, an integer of either sign, a byte/text string, an array, or anything. */
export type ParamKind = 'uint' | 'int' | 'bytes' | 'text' | 'array' | 'any';

export interface OpcodeDef {
  name: string;
  /** Number of CBOR items after the opcode. */
  params: number;
  /** What each parameter must be. */
  kinds: ParamKind[];
  /** Who sends it. */
  from: 'app' | 'device';
}

/** The app's own opcode tables (protocol.md). */
export const OPCODES: Readonly<Record<number, OpcodeDef>> = {
  0x01: { name: 'get devices', params: 0, from: 'app', kinds: [] },
  0x02: { name: 'device list', params: 1, from: 'device', kinds: ['array'] },
  0x03: { name: 'subscribe', params: 1, from: 'app', kinds: ['uint'] },
  0x04: { name: 'unsubscribe', params: 1, from: 'app', kinds: ['uint'] },
  0x05: { name: 'get values', params: 2, from: 'app', kinds: ['uint', 'array'] },
  0x06: { name: 'set values', params: 2, from: 'app', kinds: ['uint', 'array'] },
  0x07: { name: 'response', params: 3, from: 'device', kinds: ['uint', 'uint', 'int'] },
  0x08: { name: 'value', params: 3, from: 'device', kinds: ['uint', 'uint', 'bytes'] },
  0x09: { name: 'value response', params: 3, from: 'device', kinds: ['uint', 'uint', 'int'] },
  0x0a: { name: 'get path list', params: 1, from: 'app', kinds: ['uint'] },
  0x0b: { name: 'get path values', params: 2, from: 'app', kinds: ['uint', 'array'] },
  0x0c: { name: 'set path values', params: 2, from: 'app', kinds: ['uint', 'array'] },
  0x0d: { name: 'path list', params: 2, from: 'device', kinds: ['uint', 'bytes'] },
  0x0e: { name: 'new path', params: 3, from: 'device', kinds: ['uint', 'int', 'text'] },
  0x0f: { name: 'path value', params: 3, from: 'device', kinds: ['uint', 'int', 'any'] },
  0x10: { name: 'path value response', params: 3, from: 'device', kinds: ['uint', 'int', 'int'] },
};

/** True for the opcodes of the tables (0x01-0x10). */
export function isKnownOpcode(b: number | undefined): boolean {
  return b !== undefined && b >= 0x01 && b <= 0x10;
}

export interface VictronMessageBody {
  /** The opcode. */
  type: number;
  typeName: string;
  /** First parameter of every opcode but 0x01 and 0x02. */
  instance?: number;
  /** 0x05 get values: the registers asked for. */
  registers?: number[];
  /** 0x06 set values: register and raw value pairs. */
  entries?: { register: number; raw: Uint8Array }[];
  /** 0x08 value / 0x09 value response: the register. */
  register?: number;
  /** 0x08 value: the register's bytes (0x0f path value: the value, when a byte string). */
  raw?: Uint8Array;
  /** 0x07 response, 0x09 value response, 0x10 path value response: the code (0 = ok). */
  response?: number;
  /** 0x07 response: the opcode answered. */
  answeredType?: number;
  /** 0x02 device list: [instance, x] pairs; an odd trailing item is an entry of its own (and a problem). */
  devices?: number[][];
  /** 0x0e, 0x0f, 0x10: the path index. */
  pathIndex?: number;
  /** 0x0b get path values: the path indexes asked for. */
  pathIndexes?: number[];
  /** 0x0c set path values: index and value (JSON-friendly, see cborToJs) pairs. */
  pathEntries?: { index: number; value: unknown }[];
  /** 0x0f path value: the value (JSON-friendly, see cborToJs). */
  pathValue?: unknown;
  /** 0x0e new path: the path. */
  text?: string;
  /** 0x0d path list, after Qt qUncompress: absent when nothing inflates; when cut (more than PATH_LIST_MAX) or damaged, what inflated before, with the problem in `problems` (params[1] has the bytes). */
  pathList?: string;
  /** Every parameter item as parsed (offsets index the buffer given to parseMessage). */
  params: CborItem[];
  /** Every parameter has the CBOR type the opcode takes (and registers/instances fit 16 bits). */
  shapeOk: boolean;
  /** What does not match the opcode table; empty for a clean message. */
  problems: string[];
}

export type ParseErrorKind = 'malformed' | 'not-an-opcode' | 'unknown-opcode';

export type ParseResult =
  | { ok: true; message: VictronMessageBody; end: number }
  /** `at`: offset of the parameter item the buffer ends in, once its first byte showed the right type (the stream resumes its scan there). */
  | { ok: false; needMore: true; at?: number }
  | {
      ok: false;
      needMore: false;
      /** malformed CBOR (or a parameter known to be of the wrong type before it is complete); not-an-opcode: the first item is not an unsigned integer; unknown-opcode: not in the tables. */
      kind: ParseErrorKind;
      error: string;
      /** Offset of the offending byte. */
      offset: number;
      /** unknown-opcode: the opcode value, when it fits one byte head. */
      opcode?: number;
    };

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const uintOf = (it: CborItem | undefined): number | undefined => (it !== undefined && it.major === 'uint' && typeof it.value === 'number' ? it.value : undefined);
const intOf = (it: CborItem | undefined): number | undefined => (it !== undefined && (it.major === 'uint' || it.major === 'nint') && typeof it.value === 'number' ? it.value : undefined);
const u16Of = (it: CborItem | undefined): number | undefined => {
  const v = uintOf(it);
  return v !== undefined && v <= 0xffff ? v : undefined;
};

/** More than any device's path list: what inflates beyond it is cut (and said so), not kept. */
export const PATH_LIST_MAX = 1 << 20;

/**
 * Qt's qCompress format: 4-byte big-endian uncompressed length, then a zlib stream. Throws when it
 * does not inflate whole; the output is capped at {@link PATH_LIST_MAX} (see qUncompressCapped).
 */
export function qUncompress(b: Uint8Array): Uint8Array {
  const r = qUncompressCapped(b);
  if (r.problem) throw new Error(r.problem);
  return r.data;
}

/** qUncompress that keeps what inflated before a cut or damage, with the problem in one line. */
export function qUncompressCapped(b: Uint8Array, cap = PATH_LIST_MAX): { data: Uint8Array; problem?: string } {
  if (b.length < 4) return { data: new Uint8Array(0), problem: 'shorter than the 4-byte length header' };
  const expected = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const r = inflateCapped(b.subarray(4), cap);
  if (r.problem) return { data: r.data, problem: `${r.problem.message} (header says ${expected} bytes)` };
  if (r.data.length !== expected) return { data: r.data, problem: `inflated to ${r.data.length} bytes, header says ${expected}` };
  return { data: r.data };
}

function kindMatches(kind: ParamKind, major: number): boolean {
  switch (kind) {
    case 'uint':
      return major === 0;
    case 'int':
      return major === 0 || major === 1;
    case 'bytes':
      return major === 2;
    case 'text':
      return major === 3;
    case 'array':
      return major === 4;
    case 'any':
      return true;
  }
}

const KIND_NAME: Record<ParamKind, string> = { uint: 'an unsigned integer', int: 'an integer', bytes: 'a byte string', text: 'a text string', array: 'an array', any: 'any item' };
const PARAM_NAME: Record<number, string[]> = {
  0x02: ['device list'],
  0x05: ['instance', 'register list'],
  0x06: ['instance', 'set list'],
  0x07: ['instance', 'answered opcode', 'response code'],
  0x08: ['instance', 'register', 'value'],
  0x09: ['instance', 'register', 'response code'],
  0x0b: ['instance', 'path index list'],
  0x0c: ['instance', 'path value list'],
  0x0d: ['instance', 'path list'],
  0x0e: ['instance', 'path index', 'path'],
  0x0f: ['instance', 'path index', 'value'],
  0x10: ['instance', 'path index', 'response code'],
};
const paramName = (type: number, i: number) => PARAM_NAME[type]?.[i] ?? (i === 0 ? 'instance' : `parameter ${i + 1}`);
const describe = (it: CborItem, buf: Uint8Array) => `CBOR ${it.major}, bytes ${hexOf(buf.subarray(it.start, Math.min(it.end, it.start + 16)))}${it.end - it.start > 16 ? '…' : ''}`;

/** Pairs of an array that holds either flat [a, b, a, b, ...] or nested [[a, b], [a, b], ...]. */
function pairsOf(items: CborItem[]): CborItem[][] {
  if (items.every((x) => x.major !== 'array')) {
    const pairs: CborItem[][] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push(items.slice(i, i + 2));
    return pairs;
  }
  return items.map((x) => (x.major === 'array' ? x.children : [x]));
}

/** A problem of shape: the first one only (a range problem after a type problem adds nothing: one is enough to show misframed bytes). */
function shape(m: VictronMessageBody, what: string): void {
  if (!m.shapeOk) return;
  m.problems.push(what);
  m.shapeOk = false;
}

/** Interprets the parameters of a framed message by its opcode (their CBOR types are already checked). */
function interpret(m: VictronMessageBody): void {
  const p = m.params;
  if (m.type !== 0x01 && m.type !== 0x02) {
    const inst = u16Of(p[0]);
    if (inst !== undefined) m.instance = inst;
    else if (p[0]!.major === 'uint') shape(m, 'instance is not a 16-bit unsigned integer');
  }
  switch (m.type) {
    case 0x02: {
      const a = p[0]!;
      if (a.major !== 'array') break;
      const nums = a.children.map(uintOf);
      if (!nums.every((n) => n !== undefined)) shape(m, 'device list holds items that are not unsigned integers');
      m.devices = [];
      for (let i = 0; i < nums.length; i += 2) m.devices.push(nums.slice(i, i + 2).map((n) => n ?? -1));
      if (nums.length % 2 !== 0) m.problems.push(`device list has an odd number of items (${nums.length})`);
      break;
    }
    case 0x05: {
      const a = p[1]!;
      if (a.major !== 'array') break;
      const regs = a.children.map(u16Of);
      if (!regs.every((r) => r !== undefined)) shape(m, 'register list holds items that are not 16-bit registers');
      m.registers = regs.filter((r): r is number => r !== undefined);
      break;
    }
    case 0x06: {
      const a = p[1]!;
      if (a.major !== 'array') break;
      m.entries = [];
      for (const [r, v] of pairsOf(a.children)) {
        const reg = u16Of(r);
        if (reg !== undefined && v !== undefined && v.major === 'bytes') m.entries.push({ register: reg, raw: v.value });
        else shape(m, 'set list entry is not a 16-bit register and a byte string');
      }
      break;
    }
    case 0x07:
      m.answeredType = uintOf(p[1]);
      m.response = intOf(p[2]);
      if (m.answeredType === undefined || m.response === undefined) shape(m, 'response fields are out of range');
      break;
    case 0x08: {
      m.register = u16Of(p[1]);
      if (m.register === undefined && p[1]!.major === 'uint') shape(m, 'register is not a 16-bit unsigned integer');
      const v = p[2]!;
      if (v.major === 'bytes') m.raw = v.value;
      break;
    }
    case 0x09:
      m.register = u16Of(p[1]);
      m.response = intOf(p[2]);
      if (m.register === undefined || m.response === undefined) shape(m, 'register or response code out of range');
      break;
    case 0x0b: {
      const a = p[1]!;
      if (a.major !== 'array') break;
      const idx = a.children.map(intOf);
      if (!idx.every((n) => n !== undefined)) shape(m, 'path index list holds items that are not integers');
      m.pathIndexes = idx.filter((n): n is number => n !== undefined);
      break;
    }
    case 0x0c: {
      const a = p[1]!;
      if (a.major !== 'array') break;
      m.pathEntries = [];
      for (const [k, v] of pairsOf(a.children)) {
        const index = intOf(k);
        if (index === undefined || v === undefined) shape(m, 'path value list entry is not an index and a value');
        m.pathEntries.push({ index: index ?? -1, value: v ? cborToJs(v) : null });
      }
      break;
    }
    case 0x0d: {
      const b = p[1]!;
      if (b.major !== 'bytes') break;
      const r = qUncompressCapped(b.value);
      if (!r.problem) m.pathList = new TextDecoder().decode(r.data);
      else {
        m.problems.push(`path list does not uncompress: ${r.problem}`);
        // What inflated before the cut or the damage is shown, marked by the problem.
        if (r.data.length > 0) m.pathList = new TextDecoder().decode(r.data);
      }
      break;
    }
    case 0x0e: {
      m.pathIndex = intOf(p[1]);
      const t = p[2]!;
      if (t.major === 'text') m.text = t.value;
      break;
    }
    case 0x0f: {
      m.pathIndex = intOf(p[1]);
      const v = p[2]!;
      m.pathValue = cborToJs(v);
      if (v.major === 'bytes') m.raw = v.value;
      break;
    }
    case 0x10:
      m.pathIndex = intOf(p[1]);
      m.response = intOf(p[2]);
      break;
  }
  if ((m.type >= 0x0e && m.pathIndex === undefined) || (m.type === 0x10 && m.response === undefined)) shape(m, 'path index or response code out of range');
}

/** End offset of the last smallUint() read (a module variable instead of a tuple: no allocation). */
let uintEnd = 0;

/** smallUint(): the head is a small unsigned integer's, but the buffer ends inside it (or before it). */
const CUT = -2;

/** Small unsigned integer head at `p` (values < 2^32); -1 when not that simple, {@link CUT} when not all there. */
function smallUint(buf: Uint8Array, p: number): number {
  const b = buf[p];
  if (b === undefined) return CUT;
  if (b > 0x1a) return -1;
  if (b < 0x18) {
    uintEnd = p + 1;
    return b;
  }
  if (b === 0x18) {
    if (p + 1 >= buf.length) return CUT;
    uintEnd = p + 2;
    return buf[p + 1]!;
  }
  if (b === 0x19) {
    if (p + 2 >= buf.length) return CUT;
    uintEnd = p + 3;
    return (buf[p + 1]! << 8) | buf[p + 2]!;
  }
  if (p + 4 >= buf.length) return CUT;
  uintEnd = p + 5;
  return ((buf[p + 1]! << 24) >>> 0) + ((buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!);
}

/** "Need more bytes" with nothing else to say: one shared result (callers never change a result). */
export const NEED_MORE: ParseResult = { ok: false, needMore: true };

/**
 * What the general path answers for a clean message the buffer ends in: the parameter item that
 * starts at `at` is cut (none when the buffer ends just before it). A message cut by a piece's end
 * is common (a get values written over two pieces): answered without reading its items.
 */
function cutAt(buf: Uint8Array, at: number): ParseResult {
  return at >= buf.length ? NEED_MORE : { ok: false, needMore: true, at };
}

/** The bulk of a capture is 0x08 value messages: read the clean ones (whole or cut) without the general item reader. */
function fastValue(buf: Uint8Array, offset: number): ParseResult | undefined {
  const inst = smallUint(buf, offset + 1);
  if (inst === CUT) return cutAt(buf, offset + 1);
  if (inst < 0 || inst > 0xffff) return undefined;
  const instEnd = uintEnd;
  const reg = smallUint(buf, instEnd);
  if (reg === CUT) return cutAt(buf, instEnd);
  if (reg < 0 || reg > 0xffff) return undefined;
  const regEnd = uintEnd;
  const hb = buf[regEnd];
  if (hb === undefined) return NEED_MORE;
  if (hb < 0x40 || hb > 0x58) return undefined;
  let len = hb - 0x40;
  let start = regEnd + 1;
  if (hb === 0x58) {
    if (start >= buf.length) return cutAt(buf, regEnd);
    len = buf[start]!;
    start++;
  }
  const end = start + len;
  if (end > buf.length) return cutAt(buf, regEnd);
  return { ok: true, message: new ValueMessage(inst, reg, buf.subarray(start, end), offset, instEnd, regEnd, start), end };
}

/** The problems of a clean message read by fastValue: none, and never added to (one shared array). */
const NO_PROBLEMS: string[] = [];

/**
 * A clean 0x08 value read by fastValue. Its parameter items (what anonymize and tests look at) are
 * made when asked for: the decoder never reads them, and they were most of the allocation per value.
 */
class ValueMessage implements VictronMessageBody {
  type = 8;
  typeName = 'value';
  shapeOk = true;
  problems = NO_PROBLEMS;
  constructor(
    public instance: number,
    public register: number,
    public raw: Uint8Array,
    /** Offsets: the opcode, the ends of the instance and register items, the byte string's bytes. */
    private readonly at: number,
    private readonly instEnd: number,
    private readonly regEnd: number,
    private readonly rawStart: number,
  ) {}

  get params(): CborItem[] {
    const { at, instEnd, regEnd, rawStart } = this;
    const end = rawStart + this.raw.length;
    return [
      { major: 'uint', value: this.instance, start: at + 1, end: instEnd, headLength: instEnd - at - 1, indefinite: false },
      { major: 'uint', value: this.register, start: instEnd, end: regEnd, headLength: regEnd - instEnd, indefinite: false },
      { major: 'bytes', value: this.raw, start: regEnd, end, headLength: rawStart - regEnd, indefinite: false },
    ];
  }
}

/**
 * A clean 0x05 get values of small definite parts (`05 inst 8n reg...`, what the app writes), whole or
 * cut: read without the general item reader; undefined for anything else (the general path decides).
 */
function fastGetValues(buf: Uint8Array, offset: number): ParseResult | undefined {
  const inst = smallUint(buf, offset + 1);
  if (inst === CUT) return cutAt(buf, offset + 1);
  if (inst < 0 || inst > 0xffff) return undefined;
  const list = uintEnd;
  const hb = buf[list];
  if (hb === undefined) return NEED_MORE;
  if (hb < 0x80 || hb > 0x97) return undefined;
  const n = hb - 0x80;
  let p = list + 1;
  const registers: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const reg = smallUint(buf, p);
    if (reg === CUT) return cutAt(buf, list);
    if (reg < 0 || reg > 0xffff) return undefined;
    registers[i] = reg;
    p = uintEnd;
  }
  return { ok: true, message: new GetValuesMessage(inst, registers, buf, offset), end: p };
}

/** A clean 0x05 read by fastGetValues; its parameter items are read again (by the general path) only when asked for. */
class GetValuesMessage implements VictronMessageBody {
  type = 5;
  typeName = 'get values';
  shapeOk = true;
  problems = NO_PROBLEMS;
  constructor(
    public instance: number,
    public registers: number[],
    private readonly buf: Uint8Array,
    private readonly at: number,
  ) {}

  get params(): CborItem[] {
    const r = parseItems(this.buf, this.at, 0x05, OPCODES[0x05]!);
    return r.ok ? r.message.params : [];
  }
}

/**
 * Parses one message at `offset`: the opcode (a single-byte CBOR unsigned integer) and its fixed
 * number of parameter items. Returns the message and its end, "need more bytes", or an error:
 * `unknown-opcode` (the caller shows the bytes as unknown), `not-an-opcode`, or `malformed`.
 * A parameter whose first byte already shows the wrong CBOR type is not waited for: when it is
 * incomplete the result is `malformed`; when complete, the message has `shapeOk: false`.
 * Never throws.
 */
export function parseMessage(buf: Uint8Array, offset: number): ParseResult {
  const b0 = buf[offset];
  if (b0 === undefined) return NEED_MORE;
  // The bulk of a capture: values and get values, read without the general item reader when clean.
  if (b0 === 0x08) {
    const fast = fastValue(buf, offset);
    if (fast) return fast;
  } else if (b0 === 0x05) {
    const fast = fastGetValues(buf, offset);
    if (fast) return fast;
  }
  // Decide on the first byte: the app's opcodes are single-byte unsigned integers.
  if (b0 >> 5 !== 0) {
    const what = b0 === 0xff ? 'a break/padding byte 0xff' : `CBOR ${['uint', 'nint', 'bytes', 'text', 'array', 'map', 'tag', 'simple/float'][b0 >> 5]} (byte 0x${hex2(b0)})`;
    return { ok: false, needMore: false, kind: 'not-an-opcode', error: `a message starts with an unsigned integer opcode, found ${what} at offset ${offset}`, offset };
  }
  const def = b0 < 0x18 ? OPCODES[b0] : undefined;
  if (!def) {
    const known = b0 < 0x18 ? `unknown message type 0x${hex2(b0)}` : `opcode in a multi-byte head (0x${hex2(b0)}): not a message type`;
    return { ok: false, needMore: false, kind: 'unknown-opcode', error: `${known} at offset ${offset}`, offset, ...(b0 < 0x18 ? { opcode: b0 } : {}) };
  }
  return parseItems(buf, offset, b0, def);
}

/** The general path of parseMessage: the parameter items of opcode `b0` (defined by `def`) one by one, then interpreted. */
function parseItems(buf: Uint8Array, offset: number, b0: number, def: OpcodeDef): ParseResult {
  const params: CborItem[] = [];
  const problems: string[] = [];
  let shapeOk = true;
  let pos = offset + 1;
  for (let i = 0; i < def.params; i++) {
    if (pos >= buf.length) return { ok: false, needMore: true };
    const kind = def.kinds[i]!;
    const fits = kindMatches(kind, buf[pos]! >> 5);
    const r = readItem(buf, pos);
    if (!r.ok) {
      if (r.needMore && fits) return { ok: false, needMore: true, at: pos };
      if (r.needMore) return { ok: false, needMore: false, kind: 'malformed', error: `${def.name}: ${paramName(b0, i)} is not ${KIND_NAME[kind]} (byte 0x${hex2(buf[pos]!)} at offset ${pos})`, offset: pos };
      return { ok: false, needMore: false, kind: 'malformed', error: `${def.name}: ${paramName(b0, i)}: ${r.error}`, offset: r.offset };
    }
    if (!fits) {
      shapeOk = false;
      problems.push(`${paramName(b0, i)} is not ${KIND_NAME[kind]} (${describe(r.item, buf)})`);
    }
    params.push(r.item);
    pos = r.end;
  }
  const message: VictronMessageBody = { type: b0, typeName: def.name, params, shapeOk, problems };
  interpret(message);
  return { ok: true, message, end: pos };
}
