import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import readline from "node:readline";
import { z } from "zod";

// The proxy as a witness of the audit log (docs/SECURITY.md, "Signed audit
// checkpoints"): the dashboard sends every signed checkpoint of its audit chain
// head here, and the proxy keeps them in an append-only journal of its own,
// beside its state file, out of reach of someone who can only rewrite the
// dashboard's database. `npm run audit:verify` reads the latest one back.
// The proxy does not judge the signature (it holds no key); the verifier does.

const MESSAGE = /^tollgate-audit-checkpoint\/1 seq=(\d{1,19}) head=[0-9a-f]{64} at=\S+ key=ed25519:[0-9a-f]{16}$/;

export const checkpointBody = z.object({
  checkpoint: z.object({
    message: z.string().max(300).regex(MESSAGE, "is not a tollgate-audit-checkpoint/1 message"),
    signature: z.string().max(200).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
  }),
});
export type HeldCheckpoint = z.infer<typeof checkpointBody>["checkpoint"];

const seqOf = (cp: HeldCheckpoint) => BigInt(MESSAGE.exec(cp.message)![1]);

export class CheckpointJournal {
  private latestHeld: HeldCheckpoint | null = null;
  private loaded: Promise<void> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  /** file null: kept in memory only (a proxy without PROXY_STATE_FILE keeps nothing across restarts either). */
  constructor(readonly file: string | null) {}

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      if (!this.file || !(await stat(this.file).then(() => true, () => false))) return;
      const lines = readline.createInterface({ input: createReadStream(this.file, "utf8"), crlfDelay: Infinity });
      for await (const line of lines) {
        try {
          const parsed = checkpointBody.shape.checkpoint.safeParse(JSON.parse(line));
          if (parsed.success) this.keepIfNewer(parsed.data);
        } catch {
          // a torn last line after a crash: the entries before it stand
        }
      }
    })();
    return this.loaded;
  }

  private keepIfNewer(cp: HeldCheckpoint): boolean {
    if (this.latestHeld && seqOf(cp) < seqOf(this.latestHeld)) return false;
    this.latestHeld = cp;
    return true;
  }

  async latest(): Promise<HeldCheckpoint | null> {
    await this.load();
    return this.latestHeld;
  }

  /** Appends (fsynced) every checkpoint received; the latest is the one with the highest seq. */
  accept(cp: HeldCheckpoint): Promise<{ latest: HeldCheckpoint; newest: boolean }> {
    const run = this.chain.then(async () => {
      await this.load();
      if (this.file) {
        const h = await open(this.file, "a", 0o600);
        try {
          await h.write(JSON.stringify(cp) + "\n");
          await h.sync();
        } finally {
          await h.close();
        }
      }
      const newest = this.keepIfNewer(cp);
      return { latest: this.latestHeld!, newest };
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
