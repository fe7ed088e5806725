/** The one part of dcmjs (no bundled types) the viewer uses: its loglevel loggers. */
declare module "dcmjs" {
  interface Logger {
    setLevel(level: "trace" | "debug" | "info" | "warn" | "error" | "silent"): void;
  }
  export const log: { getLogger(name: string): Logger };
}
