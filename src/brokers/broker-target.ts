/** A broker URL as logs, health and metrics may show it: scheme, host and port, never user or password. */
export function describeBrokerUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'invalid URL';
  }
}

/**
 * A client error message safe to log: the URL's user and password (also percent-decoded) are blanked wherever a
 * client library might have repeated them, and the text is bounded.
 */
export function scrubError(url: string, e: unknown): string {
  let message = (e as Error)?.message ?? String(e);
  try {
    const u = new URL(url);
    const secrets = [u.password, u.username, safeDecode(u.password), safeDecode(u.username)].filter((s) => s.length >= 3);
    for (const s of secrets) message = message.split(s).join('…');
  } catch {
    // not a URL: nothing of it to blank
  }
  return message.slice(0, 500);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reconnect delay after `failures` consecutive failed attempts: 500 ms doubling, capped, with ±20 % jitter. */
export function reconnectDelay(failures: number, maxMs: number): number {
  const base = Math.min(maxMs, 500 * 2 ** Math.min(Math.max(failures - 1, 0), 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
