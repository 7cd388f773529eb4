// next-auth error codes → what the person can do about it (shown by the page and by the form).
export const SIGN_IN_ERRORS: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  RateLimited: "Too many failed attempts. Wait a minute and try again.",
  NoRoles: "Your account has no Tollgate role. Ask an administrator to add you to a Tollgate group.",
  AccessDenied: "Sign-in was refused.",
  OAuthCallback: "The identity provider's answer could not be verified. Try again.",
  OAuthSignin: "Could not start sign-in with the identity provider.",
  SessionRequired: "Please sign in.",
  DatabaseUnavailable: "Tollgate's database is unavailable right now. Try again in a moment.",
  SignInError: "Sign-in failed on our side. Try again; if it keeps failing, tell your administrator.",
};

export function signInErrorMessage(code: string): string {
  return SIGN_IN_ERRORS[code] ?? "Sign-in failed. Try again.";
}
