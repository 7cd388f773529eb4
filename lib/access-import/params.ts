/**
 * Rows per statement when an import sends arrays as query parameters. Every parameter passes through Prisma's query
 * compiler (WebAssembly), whose memory grows to the largest request it has seen and never shrinks, and Prisma keeps
 * its last 100 debug messages (with the parameters) even with debugging off. At 20,000 rows a statement the apply of
 * 1M grants held ~100 MB more than at 2,000, and was slower (docs/BENCHMARKS.md, "Access import").
 */
export const PARAM_CHUNK = 2_000;
