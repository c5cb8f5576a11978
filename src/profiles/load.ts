/**
 * Loading device profiles: JSON files validated with ajv against schema.json (draft 2020-12),
 * `extends` resolved, registers indexed by number. Shipped profiles live next to this module;
 * users add their own with a directory (`--profiles DIR`) or a file (`--profile path.json`).
 */
import { openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSchema, type SchemaValidator } from '../util/schema.js';
import type { CharacteristicRole, Profile, RegisterDef, ResolvedProfile } from './types.js';

export const SHIPPED_DIR = path.dirname(fileURLToPath(import.meta.url));

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

let validator: SchemaValidator | undefined;

/**
 * Checks a profile's JSON data against schema.json (skipped at run time for the shipped ones: the tests
 * check those) and the rules the schema cannot say; throws ProfileError.
 */
export function validateProfile(file: string, data: unknown, checkSchema = true): Profile {
  validator ??= checkSchema ? compileSchema(JSON.parse(readFileSync(path.join(SHIPPED_DIR, 'schema.json'), 'utf8'))) : undefined;
  if (checkSchema && !validator!(data)) {
    const lines = (validator!.errors ?? []).slice(0, 20).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.keyword === 'enum' ? ` ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}` : '';
      return `${file}: ${e.instancePath || '/'}: ${e.message}${extra}`;
    });
    throw new ProfileError(lines.join('\n'));
  }
  const p = data as Profile & { registers?: (Omit<RegisterDef, 'id'> & { id: number | string })[] };
  for (const [i, re] of (p.match?.names ?? []).entries()) {
    try {
      new RegExp(re);
    } catch (e) {
      throw new ProfileError(`${file}: /match/names/${i}: not a valid regular expression: ${(e as Error).message}`);
    }
  }
  const seen = new Set<number>();
  for (const [i, r] of (p.registers ?? []).entries()) {
    r.id = typeof r.id === 'string' ? parseInt(r.id, 16) : r.id;
    if (seen.has(r.id)) throw new ProfileError(`${file}: /registers/${i}/id: register ${'0x' + r.id.toString(16).padStart(4, '0')} is defined twice`);
    seen.add(r.id);
  }
  return p as Profile;
}

export function loadProfileFile(file: string, opts: { checkSchema?: boolean } = {}): { profile: Profile; file: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProfileError(`${file}: cannot read profile: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${file}: /: not valid JSON: ${(e as Error).message}`);
  }
  return { profile: validateProfile(file, data, opts.checkSchema ?? true), file };
}

/**
 * A shipped profile as `npm run build` writes it to dist/ (scripts/pack-profile.mjs): JSON Lines, the
 * profile, an index `[id, length, ...]`, then one register per line in the index's order. Only the
 * first two lines are read here; a register's line is read and parsed when it is first used (most
 * captures use a few dozen of the 2,579 in common.json, whose 1.6 MB took 10-20 ms to read).
 */
function loadPackedProfile(file: string): ProfileSource {
  const packed: PackedFile = { path: file, fd: openSync(file, 'r') };
  const [first, second, headBytes] = packedHead(packed);
  const profile = validateProfile(file, JSON.parse(first), false);
  const index = JSON.parse(second) as number[];
  const cells: RegisterCell[] = [];
  for (let i = 0, at = headBytes; i + 1 < index.length; at += index[i + 1]! + 1, i += 2) cells.push({ id: index[i]!, packed, at, length: index[i + 1]! });
  // Named after the profile it was built from, as messages and the generated dissector show it.
  return { profile, file: file.replace(/\.jsonl$/, '.json'), cells };
}

/**
 * A packed profile file, open for the life of the process (one per shipped profile, loaded once:
 * shippedCache) so that a register's first use costs one read, not an open and a close as well.
 */
interface PackedFile {
  path: string;
  fd: number;
}

/** The first two lines of a packed profile (pure ASCII) and the number of bytes they take with their newlines. */
function packedHead(f: PackedFile): [string, string, number] {
  for (let size = 1 << 16; ; size *= 4) {
    const buf = Buffer.allocUnsafe(size);
    const n = readSync(f.fd, buf, 0, size, 0);
    const a = buf.indexOf(NL);
    const b = a < 0 ? -1 : buf.indexOf(NL, a + 1);
    if (b >= 0 && b < n) return [buf.toString('latin1', 0, a), buf.toString('latin1', a + 1, b), b + 1];
    if (n < size) throw new ProfileError(`${f.path}: not a packed profile (no register index); rebuild with npm run build`);
  }
}
const NL = 0x0a;

/** A profile as read from its file, and its registers as cells (unread when it was read packed from dist/). */
interface ProfileSource {
  profile: Profile;
  file: string;
  cells?: RegisterCell[];
}

/**
 * A register of a resolved profile, read on first use when it was shipped packed (its line is `length`
 * bytes at byte `at` of the packed file). One cell per definition, shared by every profile that
 * inherits it, so that they share one RegisterDef.
 */
interface RegisterCell {
  id: number;
  def?: RegisterDef;
  packed?: PackedFile;
  at?: number;
  length?: number;
}

function cellDef(c: RegisterCell): RegisterDef {
  if (c.def !== undefined) return c.def;
  const buf = Buffer.allocUnsafe(c.length!);
  const n = readSync(c.packed!.fd, buf, 0, c.length!, c.at!);
  const text = buf.toString('latin1', 0, n);
  if (n !== c.length || !text.startsWith(`{"id":${c.id},`)) throw new ProfileError(`${c.packed!.path}: register ${c.id} is not at byte offset ${c.at} (the file changed since it was loaded?); rebuild with npm run build`);
  return (c.def = JSON.parse(text) as RegisterDef);
}

/** JSON files next to the shipped profiles that are not profiles. */
const NOT_PROFILES = new Set(['schema.json', 'products.json']);

/** The shipped profiles: packed (`.jsonl`) in a build, plain JSON when running from src/. */
function shippedProfiles(): ProfileSource[] {
  const packed = readdirSync(SHIPPED_DIR).filter((f) => f.endsWith('.jsonl')).sort();
  if (packed.length > 0) return packed.map((f) => loadPackedProfile(path.join(SHIPPED_DIR, f)));
  return jsonFiles(SHIPPED_DIR, NOT_PROFILES).map((f) => loadProfileFile(f, { checkSchema: false }));
}

function jsonFiles(dir: string, skip: Set<string> = new Set(['schema.json'])): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ProfileError(`${dir}: not a directory of profiles`);
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof ProfileError) throw e;
    throw new ProfileError(`${dir}: cannot read profile directory: ${(e as Error).message}`);
  }
  return entries.filter((f) => f.endsWith('.json') && !skip.has(f)).sort().map((f) => path.join(dir, f));
}

/** What each resolved profile was made from (a packed profile's `profile` holds no registers). */
const sources = new WeakMap<ResolvedProfile, ProfileSource>();

function resolveAll(raw: ProfileSource[]): ResolvedProfile[] {
  const byId = new Map<string, ProfileSource>();
  for (const r of raw) byId.set(r.profile.id, r); // later ones (user files) override shipped ones
  const cache = new Map<string, ResolvedProfile>();
  const resolve = (id: string, stack: string[]): ResolvedProfile => {
    const done = cache.get(id);
    if (done) return done;
    const entry = byId.get(id);
    if (!entry) throw new ProfileError(`${stack.length ? byId.get(stack.at(-1)!)!.file : id}: /extends: unknown profile '${id}'`);
    if (stack.includes(id)) throw new ProfileError(`${entry.file}: /extends: profiles extend each other in a cycle: ${[...stack, id].join(' -> ')}`);
    const parents = (entry.profile.extends ?? []).map((p) => resolve(p, [...stack, id]));
    // A profile's own registers; the rest are looked up in its parents, the last one first (it
    // overrides the earlier ones), rather than copied: common.json's 2,579 into each device profile
    // cost about 10 ms of every start.
    const own = new Map<number, RegisterCell>();
    for (const c of (entry.cells ??= (entry.profile.registers ?? []).map((r) => ({ id: r.id, def: r })))) own.set(c.id, c);
    const inherited = [...parents].reverse();
    const characteristics: Record<CharacteristicRole, string[]> = { control: [], lastData: [], data: [] };
    for (const role of ['control', 'lastData', 'data'] as const) {
      characteristics[role] = entry.profile.characteristics?.[role] ?? parents.find((p) => p.characteristics[role].length)?.characteristics[role] ?? [];
    }
    let sorted: RegisterDef[] | undefined;
    const rp: ResolvedProfile = {
      id,
      displayName: entry.profile.displayName,
      profile: entry.profile,
      file: entry.file,
      characteristics,
      defaultHandles: entry.profile.match?.handles ?? parents.flatMap((p) => p.defaultHandles),
      register: (rid) => {
        const c = own.get(rid);
        if (c !== undefined) return c.def ?? cellDef(c);
        for (const p of inherited) {
          const def = p.register(rid);
          if (def !== undefined) return def;
        }
        return undefined;
      },
      registers: () => {
        if (sorted === undefined) {
          const all = new Map<number, RegisterDef>();
          for (const p of parents) for (const r of p.registers()) all.set(r.id, r);
          for (const c of own.values()) all.set(c.id, cellDef(c));
          sorted = [...all.values()].sort((a, b) => a.id - b.id);
        }
        return sorted;
      },
    };
    cache.set(id, rp);
    sources.set(rp, entry);
    return rp;
  };
  return [...byId.keys()].map((id) => resolve(id, []));
}

let shippedCache: ProfileSource[] | undefined;

/** Shipped profiles plus those in `dirs` and `files` (same id = override). */
export function loadProfiles(opts: { dirs?: string[]; files?: string[] } = {}): ResolvedProfile[] {
  shippedCache ??= shippedProfiles();
  const user = [...(opts.dirs ?? []).flatMap((d) => jsonFiles(d)), ...(opts.files ?? [])].map((f) => loadProfileFile(f));
  return resolveAll([...shippedCache, ...user]);
}

/** `--profile NAME|path.json`: a loaded profile by id, or a file (loaded and resolved with the others). */
export function resolveProfile(nameOrPath: string, profiles: ResolvedProfile[]): ResolvedProfile {
  const byId = profiles.find((p) => p.id === nameOrPath);
  if (byId) return byId;
  if (nameOrPath.endsWith('.json')) {
    const { profile } = loadProfileFile(nameOrPath);
    const all = resolveAll([...profiles.map((p) => sources.get(p) ?? { profile: p.profile, file: p.file }), { profile, file: nameOrPath }]);
    return all.find((p) => p.id === profile.id)!;
  }
  throw new ProfileError(`unknown profile '${nameOrPath}' (known: ${profiles.map((p) => p.id).join(', ')}; or give a path to a .json profile)`);
}

/** Picks the profile of a device: by product id, then by name, then by handle layout. */
export function chooseProfile(
  profiles: ResolvedProfile[],
  hints: { name?: string; productId?: number; handles?: { control?: number; lastData?: number; data?: number } },
): ResolvedProfile | undefined {
  // A user's profile (from --profiles, --profile) with the same match rules as a shipped one is chosen first.
  const all = profiles.filter((p) => p.profile.match);
  const devices = [...all.filter((p) => !p.file.startsWith(SHIPPED_DIR)).reverse(), ...all.filter((p) => p.file.startsWith(SHIPPED_DIR))];
  if (hints.productId !== undefined) {
    const p = devices.find((d) => d.profile.match!.productIds?.includes(hints.productId!));
    if (p) return p;
  }
  if (hints.name) {
    const p = devices.find((d) => d.profile.match!.names?.some((re) => new RegExp(re, 'i').test(hints.name!)));
    if (p) return p;
  }
  if (hints.handles) {
    const h = hints.handles;
    const fits = devices.filter((d) => d.defaultHandles.some((x) => (h.control === undefined || x.control === h.control) && (h.lastData === undefined || x.lastData === h.lastData) && (h.data === undefined || x.data === h.data)));
    if (fits.length >= 1) return fits[0];
  }
  return undefined;
}
