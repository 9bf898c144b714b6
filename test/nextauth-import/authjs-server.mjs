// A minimal Auth.js app: @auth/core's Auth() behind node:http, the Keycloak
// provider and @auth/pg-adapter with database sessions — what a NextAuth v5
// app's route handler does. The import test signs a user in through it
// against authbff's embedded development IdP, so the database it imports is
// written by the real sign-in flow.
//
// env: DATABASE_URL (schema already created by seed.mjs), PORT, ISSUER,
// CLIENT_ID, CLIENT_SECRET, AUTH_SECRET. Prints {"listening":port} when ready.
import http from "node:http";
import pg from "pg";
import { Auth } from "@auth/core";
import Keycloak from "@auth/core/providers/keycloak";
import PostgresAdapter from "@auth/pg-adapter";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const config = {
  providers: [Keycloak({
    clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET, issuer: process.env.ISSUER,
  })],
  adapter: PostgresAdapter(pool),
  session: { strategy: "database" },
  secret: process.env.AUTH_SECRET,
  basePath: "/api/auth",
  trustHost: true,
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://${req.headers.host}`);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    const response = await Auth(new Request(url, { method: req.method, headers, body }), config);
    res.statusCode = response.status;
    response.headers.forEach((v, k) => { if (k !== "set-cookie") res.setHeader(k, v); });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) res.setHeader("set-cookie", cookies);
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    console.error(e);
    res.statusCode = 500;
    res.end(String(e));
  }
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
process.on("SIGTERM", () => { server.close(); pool.end(); });
