/// <reference types="vitest/config" />
/**
 * Builds each page script into Django's static files under stable names (no hashes), so a
 * template loads it with `<script type="module" src="{% static 'build/<page>.js' %}">`.
 *
 * One rollup input per page in src/pages/; code shared by several pages goes to build/chunks/.
 * Paths are resolved from this file, so the build works from any working directory.
 */
import { viteCommonjs } from "@originjs/vite-plugin-commonjs";
import { defineConfig } from "vite";

const here = (path: string): string => decodeURIComponent(new URL(path, import.meta.url).pathname);

/** Page name (the file under build/) -> its entry module. */
const pages: Record<string, string> = {
  import: here("./src/pages/import.ts"),
  study: here("./src/pages/study.ts"),
  reader: here("./src/pages/reader.ts"),
  coordination: here("./src/pages/coordination.ts"),
  dashboard: here("./src/pages/dashboard.ts"),
  worklist: here("./src/pages/worklist.ts"),
  modelops: here("./src/pages/modelops.ts"),
  likert: here("./src/pages/likert.ts"),
  scan: here("./src/pages/scan.ts"),
  reader_study_list: here("./src/pages/reader_study_list.ts"),
  reader_study_read: here("./src/pages/reader_study_read.ts"),
  reader_study: here("./src/pages/reader_study.ts"),
  disagreements: here("./src/pages/disagreements.ts"),
};

export default defineConfig({
  root: here("./"),
  // Chunks and assets are found relative to the page script, wherever STATIC_URL puts it.
  base: "./",
  publicDir: false,
  // Cornerstone3D's recipe for Vite: its CommonJS dependencies, the DICOM loader's codecs (WASM,
  // loaded by the loader itself) left out of pre-bundling, dicom-parser in, ES-module workers.
  plugins: [viteCommonjs()],
  optimizeDeps: {
    exclude: ["@cornerstonejs/dicom-image-loader"],
    include: ["dicom-parser"],
  },
  // Worker scripts keep stable names too: the worklist prefetches the decoder before a scan opens.
  worker: { format: "es", rollupOptions: { output: { entryFileNames: "assets/[name].js" } } },
  build: {
    outDir: here("../ichlabel/static/build"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    manifest: false,
    // Cornerstone3D, vtk.js and the viewer modules built on them (about 4 MB, 1.2 MB gzipped)
    // are one chunk with a stable name, shared by the reading, Likert and scan pages: the
    // worklist prefetches it (with reader.js) so the first scan opens without waiting for it.
    // The reading view imports it only after its first slice is drawn (viewer/first-image.ts,
    // in the page's own small script), so nothing that page needs first may land in it.
    chunkSizeWarningLimit: 6000,
    rollupOptions: {
      input: pages,
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name].js",
        manualChunks: (id) => {
          if (/[\\/]node_modules[\\/](@cornerstonejs|@kitware|dcmjs|dicom-parser)[\\/]|[\\/]src[\\/]viewer[\\/](stack|map-overlay|placement)\.ts$/.test(id)) {
            return "viewer";
          }
          // What the viewer chunk shares with the pages' own scripts goes elsewhere (a manual
          // chunk takes in the dependencies no other chunk claims, and the pages would then
          // import the whole viewer chunk for a list of presets).
          if (/[\\/]src[\\/](generated|viewer)[\\/]|preload-helper/.test(id)) return "common";
          return undefined;
        },
        assetFileNames: "assets/[name][extname]",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
