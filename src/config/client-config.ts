/** Settings of the CLI commands that talk to a running server: flag ← environment ← default. */
export interface ClientConfig {
  /** UPDRAFT_SERVER; default http://localhost:8080. */
  server: string;
  /** UPDRAFT_TOKEN: an admin token. */
  token?: string;
}

export function loadClientConfig(
  flags: { server?: string; token?: string },
  env: Record<string, string | undefined> = process.env,
): ClientConfig {
  return {
    server: flags.server || env.UPDRAFT_SERVER || 'http://localhost:8080',
    token: flags.token || env.UPDRAFT_TOKEN || undefined,
  };
}
