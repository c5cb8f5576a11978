/**
 * `vgatt profile suggest`: a starting profile for the registers a capture shows that the base profile does not
 * define. Per register: observed sizes, value range, a guessed type, sample raw values with their frames, and a
 * placeholder name to edit. Pure: it reads Victron records and returns the profile as JSON data.
 */
import type { VictronRecord } from '../victron/index.js';
import type { Profile, RegisterField, ResolvedProfile, ScalarType } from './types.js';
import { printableUtf8 } from './decode.js';
import { toHex as hex } from '../util/cursor.js';

const MAX_SAMPLES = 5;
/** Consecutive value pairs kept per register to judge the sign (memory stays bounded). */
const MAX_STEPS = 2000;

interface Observed {
  register: number;
  requests: number;
  values: number;
  responses: number;
  sizes: Map<number, number>;
  samples: { raw: string; frame: number }[];
  /** Per size of 1, 2, 4 bytes: unsigned and signed min/max, and neighbour steps. */
  ints: Map<number, { umin: number; umax: number; smin: number; smax: number; last?: number; signedSteps: number; unsignedSteps: number }>;
  allText: boolean;
  devices: Set<string>;
}

const readUint = (b: Uint8Array, n: number) => {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
};
const toSigned = (u: number, n: number) => (u >= 2 ** (8 * n - 1) ? u - 2 ** (8 * n) : u);
const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');

/** A profile as JSON: register ids as "0xNNNN" strings. */
export type SuggestedProfile = Omit<Profile, 'registers'> & { registers: SuggestedRegister[] };

export interface SuggestedRegister {
  id: string;
  name: string;
  fields: RegisterField[];
  source: string;
  description: string;
}

/** The guess for one register: type from the sizes and values seen, and what was seen, in words. */
export function guessField(o: { sizes: number[]; ints?: Observed['ints']; allText: boolean }): { type: ScalarType | 'string' | 'bytes'; why: string; special?: Record<string, string> } {
  if (o.sizes.length === 0) return { type: 'bytes', why: 'only requested, never answered with a value' };
  if (o.sizes.length > 1) return o.allText ? { type: 'string', why: `sizes vary (${o.sizes.join(', ')} bytes) and every value is printable text` } : { type: 'bytes', why: `sizes vary (${o.sizes.join(', ')} bytes)` };
  const n = o.sizes[0]!;
  if (n !== 1 && n !== 2 && n !== 4) {
    if (o.allText && n > 1) return { type: 'string', why: `${n} bytes of printable text` };
    return { type: 'bytes', why: `${n} bytes: not a scalar size` };
  }
  const s = o.ints?.get(n);
  const bits = 8 * n;
  if (!s) return { type: `un${bits}` as ScalarType, why: `${n} byte(s)` };
  const max = 2 ** bits - 1;
  const special: Record<string, string> = {};
  // velib marks missing values with the all-ones word (unsigned) or the largest positive (signed).
  if (s.umax === max) special[String(max)] = 'Not Available (guess: all ones)';
  // Signed if neighbours step across the sign boundary (0xFFFF -> 0x0001 is a step of 2 signed, 65534 unsigned),
  // or if the values sit on both sides of zero read as signed while the unsigned range spans nearly everything.
  // An all-ones word alone below zero, never reached by a small step, is the "not available" marker, not -1.
  const onlyMarker = s.smin === -1 && s.signedSteps === 0;
  const signed = s.signedSteps > s.unsignedSteps || (!onlyMarker && s.smin < 0 && s.smax >= 0 && s.smax - s.smin < (s.umax - s.umin) / 4);
  if (signed) {
    delete special[String(max)];
    const smax = 2 ** (bits - 1) - 1;
    if (s.smax === smax) special[String(smax)] = 'Not Available (guess: largest positive)';
    return { type: `sn${bits}` as ScalarType, why: `${n} byte(s); values ${s.smin} .. ${s.smax} read as signed (they cross ${h4(2 ** (bits - 1))} between neighbours or sit around 0)`, ...(Object.keys(special).length ? { special } : {}) };
  }
  return { type: `un${bits}` as ScalarType, why: `${n} byte(s); values ${s.umin} .. ${s.umax} unsigned`, ...(Object.keys(special).length ? { special } : {}) };
}

/** Collects, per register the base profile does not define, what the capture shows of it. */
export class ProfileSuggester {
  private regs = new Map<number, Observed>();
  readonly profilesSeen = new Map<string, number>();

  /** With a base, registers it does not define; without, registers the decoder's chosen profile did not name. */
  constructor(private readonly base?: ResolvedProfile) {}

  add(r: VictronRecord): void {
    if (r.kind !== 'message' || r.register === undefined) return;
    if (r.profile) this.profilesSeen.set(r.profile, (this.profilesSeen.get(r.profile) ?? 0) + 1);
    if (this.base ? this.base.register(r.register) : r.registerName !== undefined) return;
    let o = this.regs.get(r.register);
    if (!o) {
      o = { register: r.register, requests: 0, values: 0, responses: 0, sizes: new Map(), samples: [], ints: new Map(), allText: true, devices: new Set() };
      this.regs.set(r.register, o);
    }
    if (r.device) o.devices.add(r.device);
    if (r.type === 0x05) o.requests++;
    if (r.type === 0x09) o.responses++;
    if ((r.type !== 0x08 && r.type !== 0x06) || !r.raw) return;
    const b = r.raw;
    o.values++;
    o.sizes.set(b.length, (o.sizes.get(b.length) ?? 0) + 1);
    const raw = hex(b);
    if (o.samples.length < MAX_SAMPLES && !o.samples.some((s) => s.raw === raw)) o.samples.push({ raw, frame: r.frame });
    const text = printableUtf8(b[b.length - 1] === 0 ? b.subarray(0, b.indexOf(0)) : b);
    if (text === undefined || text.length < 2 || !/[A-Za-z]/.test(text)) o.allText = false;
    const n = b.length;
    if (n === 1 || n === 2 || n === 4) {
      const u = readUint(b, n);
      const sv = toSigned(u, n);
      let s = o.ints.get(n);
      if (!s) {
        s = { umin: u, umax: u, smin: sv, smax: sv, signedSteps: 0, unsignedSteps: 0 };
        o.ints.set(n, s);
      }
      s.umin = Math.min(s.umin, u);
      s.umax = Math.max(s.umax, u);
      s.smin = Math.min(s.smin, sv);
      s.smax = Math.max(s.smax, sv);
      if (s.last !== undefined && s.signedSteps + s.unsignedSteps < MAX_STEPS) {
        const du = Math.abs(u - s.last);
        const ds = Math.abs(sv - toSigned(s.last, n));
        // A step much smaller read as signed than as unsigned crossed the sign boundary.
        if (ds * 4 < du) s.signedSteps++;
        else if (du * 4 < ds) s.unsignedSteps++;
      }
      s.last = u;
    }
  }

  /** Number of registers found that the base does not define. */
  get size(): number {
    return this.regs.size;
  }

  /** The profile the decoder chose most often (the default base). */
  mostUsedProfile(): string | undefined {
    return [...this.profilesSeen].sort((a, b) => b[1] - a[1])[0]?.[0];
  }

  /** The suggested profile: extends the base, copies its match rules (so it is chosen for the same devices). */
  build(opts: { id: string; capture: string; base: ResolvedProfile }): SuggestedProfile {
    const registers: SuggestedRegister[] = [];
    for (const o of [...this.regs.values()].sort((a, b) => a.register - b.register)) {
      const sizes = [...o.sizes.keys()].sort((a, b) => a - b);
      const g = guessField({ sizes, ints: o.ints, allText: o.allText && o.values > 0 });
      const name = `Unknown ${h4(o.register)}`;
      const field: RegisterField = { name, type: g.type, ...(g.special ? { special: g.special } : {}) };
      const seen = [
        `${o.values} value(s)`,
        o.requests ? `${o.requests} request(s)` : '',
        o.responses ? `${o.responses} response code(s) instead of a value` : '',
        sizes.length ? `sizes ${sizes.map((n) => `${n} byte(s) x${o.sizes.get(n)}`).join(', ')}` : '',
        o.samples.length ? `samples ${o.samples.map((s) => `${s.raw} (frame ${s.frame})`).join(', ')}` : '',
        o.devices.size ? `device(s) ${[...o.devices].join(', ')}` : '',
      ].filter(Boolean);
      registers.push({
        id: h4(o.register),
        name,
        fields: [field],
        source: `guessed by vgatt profile suggest from ${opts.capture}: ${g.why}. EDIT: name, type, scale, unit, and say where the meaning comes from`,
        description: `Observed: ${seen.join('; ')}.`,
      });
    }
    const base = opts.base;
    return {
      id: opts.id,
      displayName: `${base.displayName} + registers seen in ${opts.capture}`,
      extends: [base.id],
      ...(base.profile.match ? { match: structuredClone(base.profile.match) } : {}),
      registers,
      source: `vgatt profile suggest ${opts.capture} --base ${base.id}: placeholder names to edit`,
    };
  }
}
