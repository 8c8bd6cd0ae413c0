/** `--admin-token`, else KMSLAB_ADMIN_TOKEN (an empty variable counts as unset). */
export function adminTokenFrom(flag: string | undefined): string | undefined {
  return flag ?? (process.env.KMSLAB_ADMIN_TOKEN || undefined);
}

/** `Authorization` for admin requests when a token is known. */
export function adminHeaders(flag: string | undefined): Record<string, string> {
  const token = adminTokenFrom(flag);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * A generated token is shown once, on stderr and outside the log stream:
 * logs are collected and kept, and a token must never be in them.
 */
export function printGeneratedToken(adminUrl: string, token: string): void {
  process.stderr.write(
    `kmslab: the admin listener ${adminUrl} is reachable beyond loopback, so it needs this token: Authorization: Bearer ${token}\n` +
      'kmslab: it is shown only now; choose your own with --admin-token or KMSLAB_ADMIN_TOKEN\n',
  );
}
