/// <reference types="vitest/config" />
/**
 * Builds each page script into Django's static files under stable names (no hashes), so a
 * template loads it with `<script type="module" src="{% static 'build/<page>.js' %}">`.
 *
 * One rollup input per page in src/pages/; code shared by several pages goes to build/chunks/.
 * Paths are resolved from this file, so the build works from any working directory.
 */
import { defineConfig } from "vite";

const here = (path: string): string => decodeURIComponent(new URL(path, import.meta.url).pathname);

/** Page name (the file under build/) -> its entry module. */
const pages: Record<string, string> = {
  import: here("./src/pages/import.ts"),
  study: here("./src/pages/study.ts"),
};

export default defineConfig({
  root: here("./"),
  // Chunks and assets are found relative to the page script, wherever STATIC_URL puts it.
  base: "./",
  publicDir: false,
  build: {
    outDir: here("../ichlabel/static/build"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    manifest: false,
    rollupOptions: {
      input: pages,
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name].js",
        assetFileNames: "assets/[name][extname]",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
