import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// Booking serves the built files at /app/ from its own origin, so the app calls /v1/ there.
export default defineConfig({
  base: "/app/",
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2020" },
  server: { proxy: { "/v1": "http://127.0.0.1:8000" } },
  test: { environment: "node", include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"] },
});
