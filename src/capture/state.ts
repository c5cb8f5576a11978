import type { CaptureWarning, ReadOptions } from './types.js';

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

  warn(w: CaptureWarning): void {
    if (w.code === 'truncated-file' || w.code === 'bad-record') this.complete = false;
    if (this.name !== undefined) w.file = this.name;
    this.warnings.push(w);
    this.opts.onWarning?.(w);
  }

  /** The byte source broke: one warning, and reading ends after the last complete record. */
  stop(w: CaptureWarning): void {
    this.warn(w);
    this.stopped = true;
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
    this.bytesRead = bytesRead;
    this.opts.onProgress?.(bytesRead, this.totalBytes);
  }
}

/** Android's filtered snoop mode cuts ACL packets to a few bytes (protocol.md, Android section). */
export const FILTERED_ACL_MAX = 16;
export const FILTERED_LOG_MESSAGE =
  "this is an Android *filtered* snoop log: ACL packets are cut to 14 bytes, so ATT values are incomplete (flagged 'truncated'). " +
  'For a full log: Developer options > Enable Bluetooth HCI snoop log > Enabled (not Filtered), toggle Bluetooth off and on, then pull btsnoop_hci.log (adb bugreport).';
