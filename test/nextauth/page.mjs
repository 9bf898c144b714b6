// The page script of the browser tests (test/browser): the unchanged
// next-auth/react client, bundled by build.mjs and served by the tests'
// "front" server next to a reverse proxy to authbff, as a Next.js app's
// rewrites would. It exposes the client's functions on window.authbff for
// the test to call, and renders useSession()'s status in #status.
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { SessionProvider, getCsrfToken, getProviders, getSession, signIn, signOut, useSession } from "next-auth/react";

let current = null;

function Status() {
  const s = useSession();
  current = s;
  const who = s.data?.user?.email ?? "";
  const org = s.data?.activeOrganization?.alias ?? "";
  return createElement("p", { id: "status", "data-status": s.status }, `${s.status} ${who} ${org}`.trim());
}

window.authbff = {
  getCsrfToken,
  getProviders,
  getSession,
  signIn,
  signOut,
  status: () => current?.status ?? "mounting",
  // update() exists only on useSession()'s value, as in an app.
  update: (data) => current.update(data),
  proxy: async (path) => {
    const r = await fetch("/api/proxy" + path, { credentials: "same-origin" });
    return { status: r.status, body: await r.text() };
  },
};

createRoot(document.getElementById("root")).render(createElement(SessionProvider, null, createElement(Status)));
