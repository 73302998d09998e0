import { randomBytes } from 'node:crypto';

interface Session {
  csrf: string;
  expiresAt: number;
}

const LOGIN_CODE_TTL_MS = 60_000;
const SESSION_TTL_MS = 12 * 3600_000;
const MAX_SESSIONS = 20;
export const SESSION_COOKIE = 'ankibridge_session';

/**
 * Dashboard sessions. A token holder (the CLI) asks for a one-time login code; the browser opens
 * /dashboard/login?code=…, which trades it for an HttpOnly, SameSite=Strict cookie, so the API
 * token itself never goes into a URL or a page. Writes from the page also need the CSRF token.
 */
export class DashboardSessions {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  newLoginCode(): { code: string; expiresAt: number } {
    this.sweep();
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + LOGIN_CODE_TTL_MS;
    this.codes.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** Single use: a code works once, within its lifetime. */
  redeem(code: string): { id: string; csrf: string; maxAgeSeconds: number } | undefined {
    this.sweep();
    const exp = this.codes.get(code);
    if (exp === undefined) return undefined;
    this.codes.delete(code);
    if (exp < this.now()) return undefined;
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf, expiresAt: this.now() + SESSION_TTL_MS });
    return { id, csrf, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s || s.expiresAt < this.now()) return undefined;
    return s;
  }

  private sweep(): void {
    const now = this.now();
    for (const [c, exp] of this.codes) if (exp < now) this.codes.delete(c);
    for (const [id, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(id);
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
