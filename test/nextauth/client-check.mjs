// client-check.mjs runs the REAL next-auth/react client (not an imitation)
// in Node against a running authbff and checks what it returns at each step:
//
//   AUTHBFF_URL=http://127.0.0.1:4000 node client-check.mjs
//
// authbff must be serving the embedded development IdP (nothing configured:
// `authbff serve` with no Keycloak). One JSON line is printed per step; the
// exit status is 1 if any check failed, 2 on a usage error.
//
// The client expects a browser. This file provides the little of one it uses:
//   * window (= globalThis, as in a browser) with location {href, origin,
//     reload}; assigning location.href records a navigation instead of
//     leaving the page;
//   * document {visibilityState, addEventListener, removeEventListener};
//   * fetch with a browser's same-origin behaviour: relative URLs resolve
//     against location.href (the page is AUTHBFF_URL + "/"), a cookie jar
//     (host-only cookies, Path, Expires/Max-Age, deletion) sends cookies and
//     stores Set-Cookie on every hop, redirects are followed hop by hop
//     unless redirect:"manual", and non-GET requests carry Origin.
// Node 20 has BroadcastChannel, which the client uses as is.
//
// Because `window` is defined, the client builds relative URLs from
// __NEXTAUTH.basePath (the path of NEXTAUTH_URL, "/api/auth"), exactly as in
// a browser; NEXTAUTH_URL is set before the client is imported.

import { readFileSync } from "node:fs";

const usage = "usage: AUTHBFF_URL=http://127.0.0.1:PORT node client-check.mjs";
if (!process.env.AUTHBFF_URL) {
  console.error(usage);
  process.exit(2);
}
const BASE = process.env.AUTHBFF_URL.replace(/\/+$/, "");
const ORIGIN = new URL(BASE).origin;
const BASE_PATH = "/api/auth";
const TIMEOUT_MS = Number(process.env.CLIENT_CHECK_TIMEOUT_MS || 60000);

// ---------------------------------------------------------------- browser --

/** Navigations the client attempted (assignments to location.href). */
const navigations = [];
let reloads = 0;
const pageURL = BASE + "/";
const location = {
  get href() {
    return pageURL;
  },
  set href(v) {
    navigations.push(String(v));
  },
  origin: ORIGIN,
  protocol: new URL(BASE).protocol,
  host: new URL(BASE).host,
  hostname: new URL(BASE).hostname,
  pathname: "/",
  search: "",
  hash: "",
  reload() {
    reloads++;
  },
  assign(v) {
    navigations.push(String(v));
  },
  replace(v) {
    navigations.push(String(v));
  },
  toString() {
    return pageURL;
  },
};
globalThis.window = globalThis;
globalThis.location = location;
globalThis.addEventListener ??= () => {};
globalThis.removeEventListener ??= () => {};
globalThis.document = {
  visibilityState: "visible",
  addEventListener() {},
  removeEventListener() {},
};

// Cookie jar: cookies are keyed by host (like a browser, ports are ignored),
// path and name. authbff sets host-only cookies (no Domain).
const jar = new Map();

function defaultPath(u) {
  const p = u.pathname;
  if (!p.startsWith("/") || p.lastIndexOf("/") === 0) return "/";
  return p.slice(0, p.lastIndexOf("/"));
}

function storeSetCookie(u, header) {
  const [pair, ...attrs] = header.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return;
  const c = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    host: u.hostname,
    path: defaultPath(u),
    expires: Infinity,
  };
  let maxAge = null;
  for (const a of attrs) {
    const i = a.indexOf("=");
    const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? "" : a.slice(i + 1).trim();
    if (k === "path" && v.startsWith("/")) c.path = v;
    else if (k === "expires") {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) c.expires = t;
    } else if (k === "max-age" && /^-?\d+$/.test(v)) maxAge = Number(v);
    else if (k === "domain" && v) c.host = v.replace(/^\./, "").toLowerCase();
  }
  if (maxAge !== null) c.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
  const key = `${c.host}|${c.path}|${c.name}`;
  if (c.expires <= Date.now()) jar.delete(key);
  else jar.set(key, c);
}

function pathMatches(reqPath, cookiePath) {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || reqPath[cookiePath.length] === "/";
}

function cookiesFor(u) {
  const now = Date.now();
  const out = [];
  for (const [key, c] of jar) {
    if (c.expires <= now) {
      jar.delete(key);
      continue;
    }
    const hostOK = u.hostname === c.host || u.hostname.endsWith("." + c.host);
    if (hostOK && pathMatches(u.pathname, c.path)) out.push(c);
  }
  out.sort((a, b) => b.path.length - a.path.length);
  return out.map((c) => `${c.name}=${c.value}`).join("; ");
}

/** The authbff cookie names currently in the jar. */
function jarNames() {
  cookiesFor(new URL(BASE)); // drop expired ones
  const host = new URL(BASE).hostname;
  return [...jar.values()]
    .filter((c) => c.host === host)
    .map((c) => c.name)
    .sort();
}

/** Every HTTP exchange of the current step: "METHOD /path?query STATUS". */
function shownURL(url) {
  if (url.origin !== ORIGIN) return url.origin + url.pathname; // the IdP
  const q = new URLSearchParams(url.search);
  for (const k of ["code", "state", "id_token_hint", "code_challenge", "nonce"]) if (q.has(k)) q.set(k, "…");
  const search = q.size ? "?" + q.toString().replaceAll("%E2%80%A6", "…") : url.search;
  return url.pathname + search;
}
let exchanges = [];
const realFetch = globalThis.fetch;

async function browserFetch(input, init = {}) {
  let url = new URL(
    typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
    location.href,
  );
  let method = (init.method || "GET").toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  const manual = init.redirect === "manual";
  for (let hop = 0; hop < 20; hop++) {
    const h = new Headers(headers);
    if (!h.has("cookie")) {
      const cookie = cookiesFor(url);
      if (cookie) h.set("cookie", cookie);
    }
    if (method !== "GET" && method !== "HEAD" && !h.has("origin")) h.set("origin", ORIGIN);
    const res = await realFetch(url, {
      method,
      headers: h,
      body,
      redirect: "manual",
      signal: init.signal ?? AbortSignal.timeout(15000),
    });
    for (const sc of res.headers.getSetCookie()) storeSetCookie(url, sc);
    exchanges.push(`${method} ${shownURL(url)} ${res.status}`);
    const loc = res.headers.get("location");
    if (manual || res.status < 300 || res.status > 399 || !loc) return res;
    url = new URL(loc, url);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers.delete("content-type");
    }
  }
  throw new TypeError("fetch: too many redirects");
}
globalThis.fetch = browserFetch;

// The client reports swallowed fetch failures with console.error (getSession
// then returns null, indistinguishable from "signed out"), so record them.
let consoleErrors = [];
for (const level of ["error", "warn"]) {
  const orig = console[level].bind(console);
  console[level] = (...args) => {
    consoleErrors.push(
      `${level}: ` +
        args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" "),
    );
    if (process.env.CLIENT_CHECK_VERBOSE) orig(...args);
  };
}

// The client's cross-tab messages, as another tab would see them.
const broadcasts = [];
const otherTab = new BroadcastChannel("next-auth");
otherTab.onmessage = (e) => broadcasts.push(e.data);
const settle = () => new Promise((r) => setTimeout(r, 20));

// ---------------------------------------------------------------- client --

process.env.NEXTAUTH_URL = BASE + BASE_PATH;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;
const NextAuthReact = await import("next-auth/react");
const { getCsrfToken, getProviders, getSession, signIn, signOut, SessionProvider, useSession, __NEXTAUTH } =
  NextAuthReact;
const React = await import("react");
const { renderToString } = await import("react-dom/server");
const pkgVersion = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), "utf8")).version;
const versions = {
  node: process.version,
  "next-auth": pkgVersion("next-auth"),
  "@auth/core": pkgVersion("@auth/core"),
  react: React.version,
  "react-dom": pkgVersion("react-dom"),
};

// ----------------------------------------------------------------- checks --

let failed = false;
let stepFailures = [];
function check(ok, what, got) {
  if (!ok) stepFailures.push(got === undefined ? what : `${what}; got ${JSON.stringify(got)}`);
  return ok;
}
function line(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Runs one step; fn returns the step's result (printed) and calls check. */
async function step(name, fn, { fatal = false } = {}) {
  exchanges = [];
  consoleErrors = [];
  stepFailures = [];
  navigations.length = 0;
  broadcasts.length = 0;
  let result;
  const started = performance.now();
  try {
    result = await fn();
  } catch (e) {
    stepFailures.push(`threw ${e?.name ?? "Error"}: ${e?.message ?? e}`);
  }
  await settle();
  check(consoleErrors.length === 0, "the client logged no error", consoleErrors);
  check(navigations.length === 0 && reloads === 0, "the client did not navigate", { navigations, reloads });
  const ok = stepFailures.length === 0;
  const out = { step: name, ok, ms: Math.round(performance.now() - started), result, http: exchanges };
  if (broadcasts.length) out.broadcasts = broadcasts.slice();
  out.cookies = jarNames();
  if (!ok) out.failures = stepFailures;
  line(out);
  if (!ok) {
    failed = true;
    if (fatal) finish();
  }
  return result;
}

function finish() {
  line({ step: "done", ok: !failed, ms: Math.round(performance.now()) });
  otherTab.close();
  // The client opens a BroadcastChannel per getSession() and never closes
  // it; exit instead of waiting for the event loop to drain.
  process.exit(failed ? 1 : 0);
}

const hex64 = /^[0-9a-f]{64}$/;
const isoDate = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
let discovery; // the IdP's OpenID configuration, once signIn has named it

const timer = setTimeout(() => {
  line({ step: "timeout", ok: false, failures: [`not done within ${TIMEOUT_MS} ms`] });
  process.exit(1);
}, TIMEOUT_MS);
timer.unref();

line({ step: "start", ok: true, ms: Math.round(performance.now()), authbff: BASE, basePath: __NEXTAUTH.basePath, versions });

await step(
  "getProviders",
  async () => {
    const p = await getProviders();
    check(p && typeof p === "object", "providers is an object", p);
    check(Object.keys(p ?? {}).join() === "keycloak", "only the keycloak provider", Object.keys(p ?? {}));
    const k = p?.keycloak ?? {};
    check(k.id === "keycloak", "keycloak.id", k.id);
    check(k.type === "oidc", "keycloak.type", k.type);
    check(k.signinUrl === `${BASE}${BASE_PATH}/signin/keycloak`, "keycloak.signinUrl is absolute", k.signinUrl);
    check(
      k.callbackUrl === `${BASE}${BASE_PATH}/callback/keycloak`,
      "keycloak.callbackUrl is absolute",
      k.callbackUrl,
    );
    check(jarNames().length === 0, "/providers sets no cookie", jarNames());
    return p;
  },
  { fatal: true },
);

let csrfToken;
await step("getCsrfToken", async () => {
  csrfToken = await getCsrfToken();
  check(hex64.test(csrfToken), "a 64-hex token", csrfToken);
  check(jarNames().includes("authjs.csrf-token"), "the authjs.csrf-token cookie is set", jarNames());
  const again = await getCsrfToken();
  check(again === csrfToken, "a second call returns the same token (the cookie is reused)", again);
  return { csrfToken };
});

await step("getSession (signed out)", async () => {
  const s = await getSession();
  check(s === null, "null before sign-in", s);
  return s;
});

let authorizeURL;
await step(
  "signIn",
  async () => {
    const res = await signIn(
      "keycloak",
      { redirect: false, callbackUrl: BASE + "/dashboard" },
      { login_hint: "bob@example.com" },
    );
    check(res && res.ok === true, "ok", res?.ok);
    check(res?.status === 200, "status 200", res?.status);
    check(res?.error === undefined, "no error", res?.error);
    check(typeof res?.url === "string", "url is a string", res?.url);
    const u = new URL(res.url);
    authorizeURL = res.url;
    check(u.origin !== ORIGIN, "url is on the IdP, not on authbff", u.origin);
    discovery = await (await realFetch(new URL("/.well-known/openid-configuration", u))).json();
    check(
      u.origin + u.pathname === discovery.authorization_endpoint,
      "url is the IdP's authorization_endpoint",
      { url: u.origin + u.pathname, authorization_endpoint: discovery.authorization_endpoint },
    );
    const q = u.searchParams;
    check(q.get("response_type") === "code", "response_type=code", q.get("response_type"));
    check(q.get("redirect_uri") === `${BASE}${BASE_PATH}/callback/keycloak`, "redirect_uri", q.get("redirect_uri"));
    check(q.get("code_challenge_method") === "S256", "PKCE S256", q.get("code_challenge_method"));
    check(q.get("login_hint") === "bob@example.com", "authorizationParams pass through", q.get("login_hint"));
    check(
      exchanges.some((e) => e.startsWith(`POST ${BASE_PATH}/signin/keycloak?`)),
      "the client posted to /signin/keycloak",
      exchanges,
    );
    return { ...res, url: u.origin + u.pathname + "?…" };
  },
  { fatal: true },
);

await step(
  "IdP login as bob + callback",
  async () => {
    const callbackPrefix = `${BASE}${BASE_PATH}/callback/keycloak`;
    let at = authorizeURL;
    let posted = false;
    for (let hop = 0; hop < 20 && !at.startsWith(callbackPrefix); hop++) {
      const r = await browserFetch(at, { redirect: "manual" });
      const loc = r.headers.get("location");
      if (r.status >= 300 && r.status < 400 && loc) {
        at = new URL(loc, at).href;
        continue;
      }
      const html = await r.text();
      if (posted || !check(r.status === 200, `the IdP shows its login page at ${at}`, r.status)) return;
      const form = html.match(/<form method="post" action="([^"]+)">/);
      const id = html.match(/name="authRequestID" value="([^"]+)"/);
      if (!check(form && id, "the page has the /login/select form with authRequestID", html.slice(0, 300))) return;
      const action = new URL(form[1], at);
      const post = await browserFetch(action, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: action.origin },
        body: new URLSearchParams({ authRequestID: id[1], username: "bob" }),
      });
      posted = true;
      const next = post.headers.get("location");
      if (!check(post.status >= 300 && post.status < 400 && next, "the login form redirects", post.status)) return;
      at = new URL(next, action).href;
    }
    if (!check(at.startsWith(callbackPrefix), "the IdP redirected to authbff's callback", at)) return;
    const cb = await browserFetch(at, { redirect: "manual" });
    const loc = cb.headers.get("location");
    check(cb.status === 302, "the callback answers 302", cb.status);
    check(loc && new URL(loc, at).href === BASE + "/dashboard", "to the signIn callbackUrl", loc);
    check(jarNames().includes("authjs.session-token"), "the session cookie is set", jarNames());
    check(!jarNames().includes("authjs.pkce.code_verifier"), "the PKCE cookie is cleared", jarNames());
    return { status: cb.status, location: loc };
  },
  { fatal: true },
);

let session;
await step("getSession (bob)", async () => {
  const s = await getSession();
  session = s;
  check(s !== null && typeof s === "object", "a session", s);
  check(s?.user?.email === "bob@example.com", "user.email", s?.user?.email);
  check(s?.user?.name === "Bob User", "user.name", s?.user?.name);
  check(Array.isArray(s?.user?.roles) && s.user.roles.includes("user"), "user.roles includes user", s?.user?.roles);
  check(Array.isArray(s?.organizations) && s.organizations.length === 2, "two organizations", s?.organizations);
  check(s?.activeOrganization?.alias === "acme", "activeOrganization.alias", s?.activeOrganization);
  check(isoDate.test(s?.expires ?? "") && !Number.isNaN(Date.parse(s.expires)), "expires is an ISO date", s?.expires);
  check(Date.parse(s?.expires) > Date.now(), "expires is in the future", s?.expires);
  await settle();
  check(
    broadcasts.some((m) => m?.event === "session" && m?.data?.trigger === "getSession"),
    "getSession() tells the other tabs",
    broadcasts,
  );
  return s;
});

// update() exists only as the value of useSession() inside <SessionProvider>.
// Render the real SessionProvider once with react-dom/server and keep the
// update function it created (an initial session makes loading false, as on
// a page rendered with a session). Server rendering runs no effects, so the
// provider does not fetch on its own, and state setters after the render are
// no-ops: the function is the client's own, the HTTP calls are real.
await step("update() from useSession()", async () => {
  let captured;
  function Capture() {
    captured = useSession();
    return null;
  }
  renderToString(React.createElement(SessionProvider, { session }, React.createElement(Capture)));
  check(captured?.status === "authenticated", "useSession() is authenticated", captured?.status);
  check(typeof captured?.update === "function", "useSession().update is a function", typeof captured?.update);
  const same = await captured.update();
  check(same?.user?.email === "bob@example.com", "update() re-reads the session", same?.user?.email);
  check(
    exchanges.length >= 1 && exchanges.at(-1) === `GET ${BASE_PATH}/session 200`,
    "update() without data is a GET /session",
    exchanges,
  );
  const globex = session?.organizations?.find((o) => o.alias === "globex");
  if (!check(globex, "bob belongs to globex", session?.organizations)) return;
  const switched = await captured.update({ organizationId: globex.id });
  check(
    exchanges.slice(-2).join() === `GET ${BASE_PATH}/csrf 200,POST ${BASE_PATH}/session 200`,
    "update(data) is GET /csrf then POST /session",
    exchanges,
  );
  check(switched?.activeOrganization?.alias === "globex", "update({organizationId}) switches", switched?.activeOrganization);
  const after = await getSession();
  check(after?.activeOrganization?.alias === "globex", "getSession() sees the switch", after?.activeOrganization);
  check(after?.user?.email === "bob@example.com", "still bob", after?.user?.email);
  return { activeOrganization: after?.activeOrganization };
});

await step("signOut", async () => {
  const res = await signOut({ redirect: false, callbackUrl: BASE + "/" });
  check(res && typeof res.url === "string", "{url}", res);
  const u = new URL(res?.url ?? "about:blank");
  check(
    discovery?.end_session_endpoint && u.origin + u.pathname === discovery.end_session_endpoint,
    "url is the IdP's end_session_endpoint",
    { url: u.origin + u.pathname, end_session_endpoint: discovery?.end_session_endpoint },
  );
  check(u.searchParams.has("id_token_hint"), "url has id_token_hint", res?.url?.slice(0, 120));
  check(
    u.searchParams.get("post_logout_redirect_uri") === BASE + "/",
    "post_logout_redirect_uri is the callbackUrl",
    u.searchParams.get("post_logout_redirect_uri"),
  );
  check(!jarNames().includes("authjs.session-token"), "the session cookie is cleared", jarNames());
  await settle();
  check(
    broadcasts.some((m) => m?.event === "session" && m?.data?.trigger === "signout"),
    "signOut() tells the other tabs",
    broadcasts,
  );
  // Never print the ID token.
  return { url: u.origin + u.pathname + "?id_token_hint=…" };
});

await step("getSession (signed out)", async () => {
  const s = await getSession();
  check(s === null, "null after sign-out", s);
  return s;
});

finish();
