import { scanVictron } from '../../src/pipeline.js';
import { loadProfiles } from '../../src/profiles/index.js';
import type { VictronRecord } from '../../src/victron/index.js';

export const profiles = loadProfiles();

/** Every Victron record of a capture, through the same pipeline as `vgatt decode`. */
export async function decodeAll(file: string, opts: { profile?: string } = {}): Promise<VictronRecord[]> {
  const scan = await scanVictron(file, { profiles, profile: opts.profile ? profiles.find((p) => p.id === opts.profile) : undefined });
  const out: VictronRecord[] = [];
  for await (const b of scan.batches()) out.push(...b);
  return out;
}
