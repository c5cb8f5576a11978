/** `vgatt doctor` wired: the captures through the whole pipeline, every stage watched by a CaptureDoctor. */
import { CaptureError, type CaptureWarning } from '../capture/types.js';
import { scanVictron } from '../pipeline.js';
import type { ResolvedProfile } from '../profiles/index.js';
import { CaptureDoctor, unreadable, type DoctorReport } from './index.js';

export async function diagnose(paths: string[], opts: { profiles: ResolvedProfile[]; profile?: ResolvedProfile; onWarning?: (w: CaptureWarning) => void; onProgress?: (done: number, total: number) => void }): Promise<DoctorReport> {
  const doctor = new CaptureDoctor();
  const warnings: CaptureWarning[] = [];
  const counts = new Map<string, number>();
  let multi = false;
  let scan;
  try {
    scan = await scanVictron(paths, {
      profiles: opts.profiles,
      profile: opts.profile,
      onWarning: (w) => {
        warnings.push(w);
        opts.onWarning?.(w);
      },
      onProgress: opts.onProgress,
      onRecord: (rec, input) => {
        counts.set(input.path, (counts.get(input.path) ?? 0) + 1);
        doctor.record(rec, multi ? input.path : undefined);
      },
    });
  } catch (e) {
    if (e instanceof CaptureError) return unreadable(paths.join(', '), e.message);
    throw e;
  }
  multi = scan.reader.multi;
  for await (const batch of scan.batches()) for (const r of batch) doctor.victron(r);
  return doctor.finish({
    inputs: scan.reader.readers.map((r) => ({ path: r.path, format: r.info.format, linkType: r.info.linkTypeName, records: counts.get(r.path) ?? 0, complete: r.complete })),
    warnings,
    sessions: scan.extractor.sessions(),
    profiles: scan.decoder.sessionProfiles(),
    unanswered: scan.decoder.unanswered(),
    gatt: scan.extractor.gattDatabases(),
  });
}
