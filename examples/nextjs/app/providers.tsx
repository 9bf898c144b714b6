"use client";

import { SessionProvider } from "next-auth/react";
import type { ReactNode } from "react";

// SessionProvider talks to /api/auth/* exactly as with NextAuth's own route
// handler; next.config rewrites those paths to authbff.
export function Providers({ children }: { children: ReactNode }) {
  return <SessionProvider>{children}</SessionProvider>;
}
