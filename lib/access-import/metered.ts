import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError, badRequest } from "@/lib/errors";

/** Bytes read so far against the limit, shared by every file of one import. */
export interface ByteBudget {
  used: number;
  readonly max: number;
}

/**
 * A file's bytes on their way to a parser: counted against the import's byte
 * budget (past it the read stops and nothing is imported) and hashed as they
 * pass, so the file is never held whole. pipeline() destroys both ends on an
 * error either side, so a refused record or an over-long file stops the read
 * instead of draining the rest.
 */
export function meter(source: Readable, filename: string, budget: ByteBudget) {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      budget.used += chunk.length;
      if (budget.used > budget.max) return done(badRequest(`${filename}: over the limit of ${budget.max} bytes (TOLLGATE_ACCESS_IMPORT_MAX_BYTES); nothing was imported`, "file"));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const piped = pipeline(source, stream).catch((e: unknown) => e);
  return {
    stream,
    /** After a refused record: stop reading. */
    stop() {
      source.destroy();
      stream.destroy();
    },
    /** Resolves once the whole file went through; throws what stopped it. */
    async finished() {
      const failed = await piped;
      if (failed) throw failed instanceof AppError ? failed : badRequest(`${filename}: could not be read`, "file");
      if (bytes === 0) throw badRequest(`${filename}: the file is empty`, "file");
    },
    sha256: () => hash.digest("hex"),
    bytes: () => bytes,
  };
}
