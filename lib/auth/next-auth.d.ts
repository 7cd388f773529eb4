// What Tollgate keeps in the next-auth JWT and session. Roles here are only for
// display: currentActor() re-reads them from the database on every request.
import "next-auth/jwt";
import "next-auth";

declare module "next-auth/jwt" {
  interface JWT {
    userId?: string;
    roles?: string[];
  }
}

declare module "next-auth" {
  interface Session {
    userId?: string;
    roles?: string[];
  }
}
