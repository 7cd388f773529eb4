import NextAuth from "next-auth";
import { authOptions } from "@/lib/auth/options";

// Options are built per request from the parsed environment (see lib/auth/options.ts).
type Ctx = { params: Promise<{ nextauth: string[] }> };
const handler = (req: Request, ctx: Ctx) => NextAuth(req as never, ctx as never, authOptions());

export { handler as GET, handler as POST };
