/** Shared by the bench servers: announce the port on stdout, and exit cleanly on SIGTERM/SIGINT. */

/** Prints `listening <port>` (what `startBenchServer` waits for) and installs the signal handlers. */
export function announce(port: number, close: () => Promise<unknown>): void {
  process.stdout.write(`listening ${port}\n`);
  const stop = (): void => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A required environment variable. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}
