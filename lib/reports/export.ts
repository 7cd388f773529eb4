import { createHash } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { actorLabel, authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, fromZod } from "@/lib/errors";
import { copyCsvChunks } from "./copy";
import { exportEvidence, withTrailer, type ExportEvidence } from "./evidence";
import { cursorBatches, reportPool, withSnapshot } from "./cursor";
import { csvChunks, jsonChunks, type RowCounter } from "./encode";
import { renderSummaryPdf } from "./pdf";
import { recordExportEnd, recordExportStart, type ExportOutcome } from "./records";
import { refuseUnknownNames } from "./filters";
import { reportByName } from "./registry";
import { EXPORT_FORMATS, type ExportFormat } from "./types";

/**
 * The one export pipeline every report goes through: authorize → validate the
 * report, format and filters → record the start (with its audit event) → stream
 * the bytes while hashing them → record the outcome with the SHA-256 of exactly
 * what was sent. Denied or invalid requests throw before anything is recorded.
 */
export interface ExportRequest {
  report: string;
  format: string;
  /** URL search params other than `format`. */
  filters: Record<string, string>;
}

export interface ExportResult {
  exportId: string;
  filename: string;
  contentType: string;
  body: ReadableStream<Uint8Array>;
  /** Known up front only for buffered output (PDF); streamed output's hash is on the record when the stream ends. */
  sha256: string | null;
}

export interface ExportDeps {
  client?: PrismaClient;
  pool?: pg.Pool;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
  pdf: "application/pdf",
};

export async function startExport(actor: Actor, request: ExportRequest, deps: ExportDeps = {}): Promise<ExportResult> {
  authorize(actor, "reports:export");
  const def = reportByName(request.report);
  const format = z.enum(EXPORT_FORMATS).safeParse(request.format);
  if (!format.success) throw badRequest(`format: must be one of ${EXPORT_FORMATS.join(", ")}`, "format");
  const parsed = def.filters.safeParse(request.filters);
  if (!parsed.success) throw filterError(parsed.error);
  const filters = parsed.data as never;
  const client = deps.client ?? db();
  await refuseUnknownNames(client, parsed.data as Record<string, unknown>);
  await def.prepare?.(client, filters);

  const started = await recordExportStart(client, actor, { report: def.name, format: format.data, filters });
  // Signed right after the export's own event, so the checkpoint it carries covers that event.
  const generatedAt = started.startedAt.toISOString();
  const filename = `tollgate-${def.name}-${generatedAt.replace(/[-:]/g, "").slice(0, 15)}-${started.id.slice(0, 8)}.${format.data}`;
  const base = { exportId: started.id, filename, contentType: CONTENT_TYPES[format.data] };
  const finish = (outcome: ExportOutcome) => recordExportEnd(client, actor, started.id, outcome);
  let evidence: ExportEvidence;
  try {
    evidence = await exportEvidence(client, started);
  } catch (e) {
    // No evidence, no export: an export that cannot carry its checkpoint is refused, and says so on its record.
    await finish({ status: "failed", rowCount: 0, byteCount: 0, error: `audit checkpoint: ${errorText(e)}` });
    throw e;
  }

  if (format.data === "pdf") {
    try {
      const summary = await def.summary(client, filters);
      const pdf = await renderSummaryPdf(
        { title: def.title, description: def.description, exportId: started.id, generatedBy: actorLabel(actor), generatedAt, filters, evidence },
        summary,
      );
      const sha256 = createHash("sha256").update(pdf).digest("hex");
      await finish({ status: "completed", rowCount: summary.rowCount, byteCount: pdf.byteLength, sha256 });
      return { ...base, sha256, body: bufferStream(pdf) };
    } catch (e) {
      await finish({ status: "failed", rowCount: 0, byteCount: 0, error: errorText(e) });
      throw e;
    }
  }

  const counter: RowCounter = { rows: 0 };
  const pool = deps.pool ?? reportPool();
  // SQL reports' CSV comes straight from COPY; everything else is encoded here from row batches.
  const query = def.query ? def.query(filters) : null;
  const batches = () => withSnapshot(pool, (conn) => (query ? cursorBatches(conn, query) : def.batches!({ conn, client }, filters)));
  const chunks =
    format.data === "csv"
      ? query
        ? withTrailer(copyCsvChunks(pool, def.columns, query, counter), evidence.csvTrailer)
        : withTrailer(csvChunks(def.columns, batches(), counter), evidence.csvTrailer)
      : jsonChunks(
          { report: def.name, title: def.title, exportId: started.id, generatedBy: actorLabel(actor), generatedAt, filters },
          def.columns,
          batches(),
          counter,
          { auditEvidence: evidence.json },
        );
  return { ...base, sha256: null, body: hashingStream(chunks, counter, finish) };
}

/**
 * Pull-based: the next chunk is produced only when the consumer (the HTTP
 * response) asks for one, so a slow download slows the cursor instead of
 * buffering. The outcome is recorded before the stream closes, so a client that
 * has read to the end can fetch the recorded hash at once.
 */
export function hashingStream(
  chunks: AsyncGenerator<Uint8Array>,
  counter: RowCounter,
  finish: (outcome: ExportOutcome) => Promise<void>,
): ReadableStream<Uint8Array> {
  const hash = createHash("sha256");
  let bytes = 0;
  let ended = false;
  const end = async (outcome: ExportOutcome) => {
    if (ended) return;
    ended = true;
    await finish(outcome).catch((e: unknown) => console.error("[reports] could not record the export's outcome", e));
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await chunks.next();
          if (done) {
            await end({ status: "completed", rowCount: counter.rows, byteCount: bytes, sha256: hash.digest("hex") });
            controller.close();
            return;
          }
          if (ended) return; // cancelled while this chunk was being produced
          hash.update(value);
          bytes += value.byteLength;
          controller.enqueue(value);
        } catch (e) {
          await end({ status: "failed", rowCount: counter.rows, byteCount: bytes, error: errorText(e) });
          // After a cancel the stream is already closed to us; erroring it again would throw.
          try {
            controller.error(e);
          } catch {
            /* already cancelled */
          }
        }
      },
      async cancel() {
        // The client went away: stop the cursor (returns its connection) and say so on the record.
        await end({ status: "failed", rowCount: counter.rows, byteCount: bytes, error: "download aborted before the end" });
        await chunks.return(undefined).catch(() => undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

function bufferStream(buf: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(buf));
      controller.close();
    },
  });
}

/** zod's error as a 400; a filter the report does not know is named as the field (strict schemas). */
function filterError(error: z.ZodError) {
  const unknown = error.issues.find((i) => i.code === "unrecognized_keys");
  if (unknown && "keys" in unknown && unknown.keys.length > 0) {
    const key = String(unknown.keys[0]);
    return badRequest(`${key}: is not a filter of this report`, key);
  }
  return fromZod(error);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
