"use client";

import { signIn, signOut, useSession } from "next-auth/react";
import { useEffect, useState } from "react";
import { ApiError, springService } from "@/lib/baseService";
import { asAuthbffSession, sessionHasRole } from "@/lib/session";
import { tokenService } from "@/lib/tokenService";

// The home page: who is signed in, their organizations (switching one is
// next-auth's update({organizationId})), and a call to the backend API
// through /api/proxy.
export default function Home() {
  const { data, status, update } = useSession();
  const session = asAuthbffSession(data);
  const [apiResult, setApiResult] = useState<string>("");
  const [tokenStatus, setTokenStatus] = useState<string>("");
  const [isAdmin, setIsAdmin] = useState<boolean | null>(null);

  useEffect(() => {
    if (status !== "authenticated") return;
    let live = true;
    tokenService.hasRole("admin").then((v) => live && setIsAdmin(v));
    return () => {
      live = false;
    };
  }, [status]);

  if (status === "loading") return <p id="status">Loading…</p>;

  if (!session) {
    return (
      <main>
        <h1>authbff example</h1>
        <p id="status">Signed out</p>
        <button id="sign-in" onClick={() => signIn("keycloak")}>
          Sign in
        </button>
      </main>
    );
  }

  async function callApi() {
    try {
      const users = await springService.get<unknown>("/users");
      setApiResult(JSON.stringify(users));
    } catch (e) {
      setApiResult(e instanceof ApiError ? `error ${e.status} ${e.code ?? ""}` : String(e));
    }
  }

  async function fetchToken() {
    const token = await tokenService.getAccessToken();
    setTokenStatus(token ? "access token received" : "no access token");
  }

  const active = session.activeOrganization;
  return (
    <main>
      <h1>authbff example</h1>
      <p id="status">Signed in</p>
      <p>
        <span id="user-name">{session.user?.name}</span> (<span id="user-email">{session.user?.email}</span>)
      </p>
      <p>
        roles: <span id="user-roles">{(session.user?.roles ?? []).join(", ")}</span>
        {" · "}user role: <span id="has-user">{String(sessionHasRole(session, "user"))}</span>
        {" · "}admin: <span id="is-admin">{isAdmin === null ? "…" : String(isAdmin)}</span>
      </p>

      <h2>Organizations</h2>
      <p>
        active: <span id="active-org">{active?.alias ?? "none"}</span>
      </p>
      <ul id="organizations">
        {(session.organizations ?? []).map((o) => (
          <li key={o.id} data-alias={o.alias}>
            {o.name} ({o.alias}, tenant {o.tenantId}){" "}
            {o.id === active?.id ? (
              <strong>active</strong>
            ) : (
              <button id={`switch-${o.alias}`} onClick={() => update({ organizationId: o.id })}>
                Switch
              </button>
            )}
          </li>
        ))}
      </ul>

      <h2>API</h2>
      <button id="call-api" onClick={callApi}>
        GET /users through /api/proxy
      </button>
      <pre id="api-result">{apiResult}</pre>
      <button id="get-token" onClick={fetchToken}>
        tokenService.getAccessToken()
      </button>
      <p id="token-status">{tokenStatus}</p>

      <button
        id="sign-out"
        onClick={() => {
          tokenService.clear();
          void signOut();
        }}
      >
        Sign out
      </button>
    </main>
  );
}
