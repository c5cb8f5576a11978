/**
 * `vgatt profile suggest <capture..> [--base NAME] [-o FILE]`: decode the capture, collect the registers the base
 * profile does not define, and write a schema-valid profile that extends the base with one placeholder entry each.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { scanVictron, type DecodeScanOptions } from '../pipeline.js';
import { loadProfiles, resolveProfile, validateProfile, ProfileError, SHIPPED_DIR } from '../profiles/index.js';
import { ProfileSuggester } from '../profiles/suggest.js';

export interface SuggestOptions {
  captures: string[];
  base?: string;
  output?: string;
  id?: string;
  profiles: string[];
}

/** A profile id (^[a-z][a-z0-9-]*$) from a file name: "My SmartShunt.json" -> "my-smartshunt". */
export function profileIdFrom(file: string): string {
  const id = path.basename(file).replace(/\.json$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  return id || 'suggested';
}

/** Runs the command; `callbacks` are the CLI's reader callbacks (warnings, progress). Returns the exit status. */
export async function runProfileSuggest(o: SuggestOptions, callbacks: Pick<DecodeScanOptions, 'onWarning' | 'onProgress' | 'onEvent'>, info: (msg: string) => void): Promise<number> {
  const profiles = loadProfiles({ dirs: o.profiles });
  const base = o.base ? resolveProfile(o.base, profiles) : undefined;
  const scan = await scanVictron(o.captures, { profiles, ...callbacks });
  const s = new ProfileSuggester(base);
  let records = 0;
  for await (const batch of scan.batches()) {
    for (const r of batch) s.add(r);
    records += batch.length;
  }
  const chosen = base ?? profiles.find((p) => p.id === (s.mostUsedProfile() ?? 'common')) ?? resolveProfile('common', profiles);
  const id = o.id ?? (o.output ? profileIdFrom(o.output) : `${chosen.id}-suggested`);
  if (profiles.some((p) => p.id === id && p.file.startsWith(SHIPPED_DIR))) throw new ProfileError(`profile id '${id}' is a shipped profile: give another with --id or another -o file name`);
  const capture = o.captures.map((c) => path.basename(c)).join(', ');
  const profile = s.build({ id, capture, base: chosen });
  // What we write must load: the same validation as --profiles DIR.
  if (o.output === '-') o = { ...o, output: undefined }; // -o - is standard output
  validateProfile(o.output ?? '(suggestion)', structuredClone(profile));
  const json = JSON.stringify(profile, null, 2) + '\n';
  if (o.output) writeFileSync(o.output, json);
  else process.stdout.write(json);
  info(`${s.size} register(s) not named by '${chosen.id}' in ${records} record(s)${o.output ? `; wrote ${o.output}` : ''}: edit the names, then use --profiles ${o.output ? path.dirname(o.output) : 'DIR'}`);
  return scan.reader.complete ? 0 : 2;
}
