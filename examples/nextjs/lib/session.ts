import type { Session } from "next-auth";

// What authbff adds to Auth.js's session JSON (never a token).
export interface Organization {
  id: string;
  alias: string;
  name: string;
  tenantId: string;
}

export interface AuthbffSession extends Session {
  user: Session["user"] & { id?: string; roles?: string[] };
  organizations?: Organization[];
  activeOrganization?: Organization | null;
}

// asAuthbffSession narrows next-auth's Session type to authbff's shape.
export function asAuthbffSession(s: Session | null | undefined): AuthbffSession | null {
  return (s as AuthbffSession | null | undefined) ?? null;
}

export function sessionHasRole(s: Session | null | undefined, role: string): boolean {
  return asAuthbffSession(s)?.user?.roles?.includes(role) ?? false;
}
