import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: "authbff example",
  description: "A Next.js app signed in through authbff",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", maxWidth: "44rem", margin: "2rem auto" }}>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
