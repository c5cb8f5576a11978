/**
 * `vgatt anonymize <in> <out> [--map mapping.json] [--seed S]`: the CLI side of src/anonymize.
 * Prints counts, never the values: the originals and their stand-ins go only to the --map file.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { anonymizeCapture } from '../anonymize/index.js';
import { loadProfiles, resolveProfile } from '../profiles/index.js';
import { Progress } from '../output/progress.js';

export interface AnonymizeArgs {
  input: string;
  output: string;
  map?: string;
  seed?: string;
  profile?: string;
  profiles: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Returns the exit status: 0 done, 1 error (nothing written), 2 damaged input (its complete records written). */
export async function runAnonymize(a: AnonymizeArgs, warn: (msg: string) => void): Promise<number> {
  if (path.resolve(a.input) === path.resolve(a.output)) throw new Error(`output ${a.output} is the input: write the anonymized copy to another file`);
  if (a.map !== undefined && (path.resolve(a.map) === path.resolve(a.input) || path.resolve(a.map) === path.resolve(a.output))) throw new Error(`--map ${a.map} would overwrite a capture`);
  const profiles = loadProfiles({ dirs: a.profiles });
  const profile = a.profile ? resolveProfile(a.profile, profiles) : undefined;
  let progress = new Progress(`reading ${a.input}`);
  const result = await anonymizeCapture(a.input, a.output, {
    profiles,
    profile,
    seed: a.seed,
    onWarning: (w) => {
      progress.done();
      warn(w.message);
    },
    onProgress: (done, total) => progress.update(done, total),
    onPass: (n, label) => {
      progress.done();
      progress = new Progress(`pass ${n}/3: ${label}`);
    },
  });
  progress.done();
  for (const w of result.locateWarnings) warn(w.message);
  if (a.map !== undefined) {
    const doc = { input: a.input, output: a.output, note: 'originals and their stand-ins: keep this file private', entries: result.mapping };
    await writeFile(a.map, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  }
  const c = result.counts;
  const kept = result.complete ? '' : ` (the input is damaged: its first ${result.bytesWritten} bytes, every complete record, were written)`;
  process.stderr.write(
    `wrote ${a.output}: ${plural(c.addresses, 'device address', 'device addresses')}, ${plural(c.serials, 'serial number')}, ${plural(c.secrets, 'secret')} replaced ` +
      `(${plural(c.bytesChanged, 'byte')} changed)${a.map !== undefined ? `; mapping in ${a.map}` : ''}${kept}\n`,
  );
  return result.complete ? 0 : 2;
}
