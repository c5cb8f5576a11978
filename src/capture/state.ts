import type { CaptureWarning, HciRecord, ReadOptions } from './types.js';

/** The largest time a JavaScript Date (and so an ISO 8601 string) can show: ±8.64e15 ms. */
export const MAX_TIME_US = 8.64e18;
/** Warnings of one kind after which the rest are counted in one line. */
const MAX_WARNINGS_PER_KIND = 5;

/** What a reader learns while streaming: shared by the format readers and exposed on CaptureReader. */
export class ReadState {
  readonly warnings: CaptureWarning[] = [];
  /** False once the file turned out damaged (truncated or corrupt); records before the damage are all delivered. */
  complete = true;
  bytesRead = 0;
  /** Set when the byte source itself broke (damaged zip entry): the leftover bytes are not warned about again. */
  stopped = false;
  private lastProgress = 0;

  constructor(
    readonly totalBytes: number,
    private readonly opts: ReadOptions,
    /** The input's name (path, or zip:entry), put on every warning. */
    readonly name?: string,
  ) {}

  /** Zero-length records in a row: count, first frame and byte offset. */
  private empty = { count: 0, frame: 0, fileOffset: 0, runs: 0 };
  private badTimes = 0;

  warn(w: CaptureWarning): void {
    if (w.code === 'truncated-file' || w.code === 'bad-record' || w.code === 'bad-timestamp' || w.code === 'empty-records') this.complete = false;
    if (this.name !== undefined) w.file = this.name;
    this.warnings.push(w);
    this.opts.onWarning?.(w);
  }

  /** The byte source broke: one warning, and reading ends after the last complete record. */
  stop(w: CaptureWarning): void {
    this.warn(w);
    this.stopped = true;
  }

  /**
   * Every record a reader emits passes here: what no capture tool writes is damage, named with its
   * offset: a time a date cannot show, and runs of zero-length records (a hole of zeros in the
   * file reads as millions of them).
   */
  check(rec: HciRecord, nextOffset: number): void {
    if (!(Math.abs(rec.timeUs) <= MAX_TIME_US)) {
      if (this.badTimes < MAX_WARNINGS_PER_KIND) this.warn({ code: 'bad-timestamp', message: `frame ${rec.frame} at byte offset ${rec.fileOffset}: timestamp ${rec.timeUs} us from 1970 is outside what a date can show (±275,760 years); its time is left empty`, fileOffset: rec.fileOffset, frame: rec.frame });
      else if (this.badTimes === MAX_WARNINGS_PER_KIND) this.warn({ code: 'bad-timestamp', message: `more timestamps out of range after frame ${rec.frame}; not reported one by one`, fileOffset: rec.fileOffset, frame: rec.frame });
      this.badTimes++;
    }
    if (rec.data.length === 0) {
      if (this.empty.count++ === 0) [this.empty.frame, this.empty.fileOffset] = [rec.frame, rec.fileOffset];
    } else if (this.empty.count > 0) this.endEmptyRun(rec.fileOffset);
    this.lastEnd = nextOffset;
  }

  private lastEnd = 0;

  private endEmptyRun(endOffset: number): void {
    const e = this.empty;
    if (e.runs < MAX_WARNINGS_PER_KIND) {
      this.warn({ code: 'empty-records', message: `${e.count} zero-length record(s) from byte offset ${e.fileOffset} to ${endOffset} (frames ${e.frame}-${e.frame + e.count - 1}): no capture tool writes them (a hole of zeros in the file?)`, fileOffset: e.fileOffset, frame: e.frame });
    } else if (e.runs === MAX_WARNINGS_PER_KIND) this.warn({ code: 'empty-records', message: `more runs of zero-length records from byte offset ${e.fileOffset}; not reported one by one`, fileOffset: e.fileOffset, frame: e.frame });
    e.runs++;
    e.count = 0;
  }

  progress(bytesRead: number): void {
    this.bytesRead = bytesRead;
    if (this.opts.onProgress && bytesRead - this.lastProgress >= 1 << 22) {
      this.lastProgress = bytesRead;
      this.opts.onProgress(bytesRead, this.totalBytes);
    }
  }

  /** End of input: bytes left over are an incomplete record (warned with their offset). */
  endOfInput(offset: number, leftover: number, nextFrame: number, unit: 'record' | 'block'): void {
    if (leftover > 0 && !this.stopped) {
      this.warn({ code: 'truncated-file', message: `capture ends inside a ${unit} at byte offset ${offset} (frame ${nextFrame}): ${leftover} byte(s) of an incomplete ${unit} ignored`, fileOffset: offset, frame: nextFrame });
    }
    this.finish(offset);
  }

  finish(bytesRead: number): void {
    if (this.empty.count > 0) this.endEmptyRun(this.lastEnd);
    this.bytesRead = bytesRead;
    this.opts.onProgress?.(bytesRead, this.totalBytes);
  }
}

/** Android's filtered snoop mode cuts ACL packets to a few bytes (protocol.md, Android section). */
export const FILTERED_ACL_MAX = 16;
export const FILTERED_LOG_MESSAGE =
  "this is an Android *filtered* snoop log: ACL packets are cut to 14 bytes, so ATT values are incomplete (flagged 'truncated'). " +
  'For a full log: Developer options > Enable Bluetooth HCI snoop log > Enabled (not Filtered), toggle Bluetooth off and on, then pull btsnoop_hci.log (adb bugreport).';
