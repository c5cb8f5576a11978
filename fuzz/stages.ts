/**
 * What one fuzz input goes through, per stage: the library API in-process, exactly as the CLI
 * wires it (capture -> ATT -> Victron -> formatter), with the checks that make a finding:
 * an exception that is not a CaptureError (a file we cannot read at all: one clear line, exit 1)
 * is a crash; a warning whose byte offset lies outside the file is a bad report.
 */
import { CaptureError, type CaptureSet } from '../src/capture/index.js';
import { scanAtt, scanVictron } from '../src/pipeline.js';
import { loadProfiles } from '../src/profiles/index.js';
import { attToCsv, attToNdjson, attToText } from '../src/output/att.js';
import { victronToCsv, victronToNdjson, victronToText } from '../src/output/victron.js';
import { gattToText } from '../src/output/gatt.js';
import { CaptureSummarizer, diffSummaries, diffToText } from '../src/diff/index.js';
import { ReportBuilder, reportToText } from '../src/report/index.js';
import { reportToHtml } from '../src/report/html.js';
import type { CaptureWarning } from '../src/capture/types.js';
import { checkNeighbours, type Span } from './neighbours.js';

export const STAGES = ['att', 'decode', 'gatt', 'report', 'diff', 'stream'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageOutcome {
  /** Records the stage produced (PDUs, Victron records, devices...). */
  records: number;
  /** The file could not be read at all (CaptureError): a documented outcome. */
  unreadable?: string;
  /** Findings that are not exceptions: warnings with offsets outside the file, lost neighbours. */
  problems: string[];
  /** Stream stage: neighbours lost, messages invented. */
  lost?: number;
}

let profiles: ReturnType<typeof loadProfiles> | undefined;

/**
 * A warning's byte offset lies in what it names: the file, or for a capture inside a bug report zip
 * (`file` is "zip:entry") the entry's inflated bytes, whose size the reader knows.
 */
function checkWarnings(set: CaptureSet, input: string, size: number, problems: string[]): void {
  for (const w of set.warnings) {
    const entry = set.readers.find((r) => r.path === w.file && r.path.startsWith(`${input}:`));
    const bound = entry && Number.isFinite(entry.size) ? entry.size : size;
    if (w.fileOffset !== undefined && !(w.fileOffset >= 0 && w.fileOffset <= bound)) problems.push(`warning names byte offset ${w.fileOffset} outside the ${bound}-byte ${entry ? 'zip entry' : 'file'}: ${w.message}`);
  }
}

/** Runs `stage` on the capture at `path` (`size` bytes); `seedPath` is the unmutated seed (for diff). */
export async function runStage(stage: Exclude<Stage, 'stream'>, path: string, size: number, seedPath: string): Promise<StageOutcome> {
  const problems: string[] = [];
  profiles ??= loadProfiles();
  const profs = profiles;
  try {
    if (stage === 'att' || stage === 'gatt') {
      const scan = await scanAtt(path);
      let n = 0;
      for await (const batch of scan.batches()) {
        for (const pdu of batch) {
          if (stage === 'att') {
            attToNdjson(pdu);
            attToCsv(pdu);
            attToText(pdu);
          }
          n++;
        }
      }
      if (stage === 'gatt') {
        const dbs = scan.extractor.gattDatabases();
        gattToText(dbs);
        JSON.stringify(dbs);
        n = dbs.length;
      }
      checkWarnings(scan.reader, path, size, problems);
      return { records: n, problems };
    }
    if (stage === 'decode' || stage === 'report') {
      const scan = await scanVictron(path, { profiles: profs });
      const builder = stage === 'report' ? new ReportBuilder(path, 'fuzz') : undefined;
      let n = 0;
      for await (const batch of scan.batches()) {
        for (const r of batch) {
          if (builder) builder.add(r);
          else {
            victronToNdjson(r);
            victronToCsv(r);
            victronToText(r);
          }
          n++;
          if (r.frames.some((f) => !(f >= 1))) problems.push(`record names frame ${r.frame} / ${r.frames.join(',')}`);
        }
      }
      scan.decoder.unanswered();
      if (builder) {
        for (const w of scan.reader.warnings) builder.warning(w);
        const rep = builder.build(scan.extractor.gattDatabases());
        reportToText(rep);
        reportToHtml(rep);
      }
      checkWarnings(scan.reader, path, size, problems);
      return { records: n, problems };
    }
    // diff: the mutated capture against its seed.
    const summary = async (p: string) => {
      const scan = await scanVictron(p, { profiles: profs });
      const sum = new CaptureSummarizer();
      for await (const batch of scan.batches()) for (const r of batch) sum.add(r);
      return sum.summaries(scan.extractor.gattDatabases());
    };
    const [a, b] = [await summary(seedPath), await summary(path)];
    const d = diffSummaries(a, b, {});
    diffToText(d, { color: false });
    JSON.stringify({ ...d, summaries: { a, b } });
    return { records: b.length, problems };
  } catch (e) {
    if (e instanceof CaptureError) return { records: 0, unreadable: e.message, problems };
    throw e;
  }
}

/** The stream stage: one damaged byte in a message stream (see neighbours.ts). */
export function runStream(stream: Uint8Array, spans: Span[], at: number, value: number, cuts: number[]): StageOutcome {
  const c = checkNeighbours(stream, spans, at, value, cuts);
  const problems: string[] = [];
  if (c.bytesMismatch) problems.push('bytes lost or duplicated');
  for (const l of c.lost) problems.push(`lost neighbour: message at ${l.start}-${l.end}`);
  for (const i of c.invented) problems.push(`invented message at ${i.start}-${i.end}`);
  return { records: c.records.length, problems, lost: c.lost.length + c.invented.length };
}
