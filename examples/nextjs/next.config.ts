import type { NextConfig } from "next";

// authbff serves /api/auth/* (the Auth.js routes next-auth/react calls) and
// /api/proxy/* (the backend API with the bearer token and tenant headers).
// The app keeps no NextAuth server code: both prefixes are rewritten to it.
//
// Rewrites are resolved at `next build`, so AUTHBFF_URL must be set then.
// authbff's AUTH_URL is this app's origin + /api/auth, so its cookies and
// redirects stay on the app's origin.
const authbff = (process.env.AUTHBFF_URL ?? "http://127.0.0.1:4000").replace(/\/+$/, "");

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  async rewrites() {
    return [
      { source: "/api/auth/:path*", destination: `${authbff}/api/auth/:path*` },
      { source: "/api/proxy/:path*", destination: `${authbff}/api/proxy/:path*` },
    ];
  },
};

export default nextConfig;
