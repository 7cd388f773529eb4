import { mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";

/**
 * Durable appends to the checkpoint file, off the caller's path. One writer
 * per file: lines queued while an fsync is running go out together in the next
 * write + fsync (so a burst costs one fsync, and lines keep their order).
 * append() settles only once its line is on disk. A failed write (full disk,
 * unmounted volume, read-only WORM policy) is logged, counted in
 * checkpointPublishStatus(), and retried with backoff (0.5 s doubling to
 * 1 min) until it succeeds; nothing is dropped.
 */
export interface PublishStatus {
  file: string;
  /** Lines accepted but not yet on disk. */
  pending: number;
  lastDurableAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  failures: number;
}

interface Queued {
  text: string;
  done(): void;
}

class DurableAppender {
  readonly status: PublishStatus;
  private queue: Queued[] = [];
  private running = false;

  constructor(
    readonly file: string,
    private log?: (msg: string) => void,
  ) {
    this.status = { file, pending: 0, lastDurableAt: null, lastError: null, lastErrorAt: null, failures: 0 };
  }

  append(text: string): Promise<void> {
    return new Promise((done) => {
      this.queue.push({ text, done });
      this.status.pending = this.queue.length;
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = 0;
    try {
      while (this.queue.length) {
        const batch = this.queue.slice();
        try {
          await appendDurably(this.file, batch.map((q) => q.text).join(""));
        } catch (e) {
          backoff = Math.min(60_000, backoff ? backoff * 2 : 500);
          this.status.failures++;
          this.status.lastError = (e as Error).message;
          this.status.lastErrorAt = new Date().toISOString();
          this.log?.(`audit checkpoint NOT yet written to ${this.file} (${this.queue.length} pending), retrying in ${backoff} ms: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, backoff).unref());
          continue;
        }
        backoff = 0;
        this.queue.splice(0, batch.length);
        this.status.pending = this.queue.length;
        this.status.lastDurableAt = new Date().toISOString();
        for (const q of batch) q.done();
      }
    } finally {
      this.running = false;
    }
  }
}

// One per file and per process; on globalThis so Next's dev reloads keep the queue.
const g = globalThis as unknown as { __tollgateAppenders?: Map<string, DurableAppender> };

export function durableAppender(file: string, log?: (msg: string) => void): DurableAppender {
  g.__tollgateAppenders ??= new Map();
  const key = path.resolve(file);
  let w = g.__tollgateAppenders.get(key);
  if (!w) g.__tollgateAppenders.set(key, (w = new DurableAppender(key, log)));
  return w;
}

/** Every checkpoint file this process writes, with what is still pending or failing (Settings shows it). */
export function checkpointPublishStatus(): PublishStatus[] {
  return [...(g.__tollgateAppenders?.values() ?? [])].map((w) => ({ ...w.status }));
}

/** Appends and fsyncs before returning. O_APPEND suits WORM/append-only mounts. */
export async function appendDurably(file: string, text: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const handle = await open(file, "a", 0o640);
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The last `bytes` of a file as text ("" when it does not exist). */
export async function readTail(file: string, bytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    return buf.toString("utf8");
  } finally {
    await handle.close();
  }
}
