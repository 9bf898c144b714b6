import { getSession } from "next-auth/react";
import { sessionHasRole } from "./session";

// tokenService keeps the shape of the helpers the app had under NextAuth, so
// existing calls compile unchanged. The refresh and ID tokens never leave
// authbff and API calls go through /api/proxy, where authbff adds the bearer
// token and the tenant headers; getAccessToken() is the one exception, kept
// for code that must hold the access token itself (it hands it to this
// JavaScript: prefer authenticatedFetch).

const PROXY_PREFIX = "/api/proxy";

let cached: { token: string; expiresAt: number } | null = null;

async function getAccessToken(): Promise<string | null> {
  // authbff refreshes the token when due; reuse it until shortly before expiry
  // (the endpoint is rate limited per session).
  if (cached && cached.expiresAt - Date.now() > 30_000) return cached.token;
  const res = await fetch("/api/auth/token", {
    headers: { "X-CSRF": "1" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!res.ok) {
    cached = null;
    return null;
  }
  const body = (await res.json()) as { accessToken: string; expiresAt: string };
  cached = { token: body.accessToken, expiresAt: Date.parse(body.expiresAt) };
  return body.accessToken;
}

// authenticatedFetch calls the backend API through authbff's proxy: `path` is
// the backend path ("/api/data"), the proxy adds Authorization, X-Tenant-ID
// and X-Organization-ID. X-CSRF marks the call as the app's own (authbff
// requires it on unsafe methods).
async function authenticatedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("X-CSRF", "1");
  const url = PROXY_PREFIX + (path.startsWith("/") ? path : `/${path}`);
  return fetch(url, { ...init, headers, credentials: "same-origin" });
}

// hasRole answers from the session's user.roles (realm and client roles).
// It reads the session, so it is asynchronous; in components use
// sessionHasRole(useSession().data, role).
async function hasRole(role: string): Promise<boolean> {
  return sessionHasRole(await getSession(), role);
}

function clear(): void {
  cached = null;
}

export const tokenService = { getAccessToken, authenticatedFetch, hasRole, clear };
export default tokenService;
