import NextAuth from "next-auth";
import { authOptions } from "@/lib/auth/options";
import { refuseMalformedAuthBody } from "@/lib/auth/auth-body";

// Options are built per request from the parsed environment (see lib/auth/options.ts).
type Ctx = { params: Promise<{ nextauth: string[] }> };
const handler = async (req: Request, ctx: Ctx) => (await refuseMalformedAuthBody(req)) ?? NextAuth(req as never, ctx as never, authOptions());

export { handler as GET, handler as POST };
