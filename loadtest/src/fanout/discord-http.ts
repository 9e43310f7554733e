// The Discord REST calls the fan-out benchmark makes (any Discord-compatible server): accounts,
// a guild with an invite, joins, messages, and the gateway URL.

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path.replace(/\/\d{5,}/g, "/:id").replace(/invites\/[^/]+$/, "invites/:code")}: HTTP ${status} ${JSON.stringify(body)?.slice(0, 200)}`);
  }
}

export class DiscordHttp {
  constructor(
    /** The server's base URL, e.g. http://127.0.0.1:8080 (routes are under /api/v10). */
    readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async call<T = any>(method: string, path: string, token?: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = token;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.baseUrl.replace(/\/$/, "")}/api/v10${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    if (res.status < 200 || res.status >= 300) throw new HttpError(method, path, res.status, parsed);
    return parsed as T;
  }

  /**
   * `call`, retried (at most `retries` times, with backoff) when the server answers 429 (after
   * its retry_after), 502, 503 or 504 — what a real client does; `onRetry` counts them.
   */
  async callRetrying<T = any>(method: string, path: string, token: string | undefined, body: unknown, retries: number, onRetry: (err: HttpError) => void): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call<T>(method, path, token, body);
      } catch (err) {
        if (!(err instanceof HttpError) || ![429, 502, 503, 504].includes(err.status) || attempt >= retries) throw err;
        onRetry(err);
        const retryAfterS = Number((err.body as { retry_after?: number } | undefined)?.retry_after);
        const waitMs = err.status === 429 && retryAfterS > 0 ? retryAfterS * 1000 : Math.min(5000, 250 * 2 ** attempt) * (0.5 + Math.random());
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  /** POST /auth/register: a new account's token and id. */
  async register(username: string, password: string): Promise<{ token: string; id: string }> {
    const body = await this.call<{ token: string; user_id?: string }>("POST", "/auth/register", undefined, {
      username,
      email: `${username}@example.com`,
      password,
      date_of_birth: "1990-01-01",
      consent: true,
    });
    const id = body.user_id ?? (await this.call<{ id: string }>("GET", "/users/@me", body.token)).id;
    return { token: body.token, id };
  }

  /** The gateway URLs the server hands out: GET /gateway asked `tries` times (servers may rotate). */
  async gatewayUrls(tries: number): Promise<string[]> {
    const urls = new Set<string>();
    for (let i = 0; i < tries; i++) urls.add((await this.call<{ url: string }>("GET", "/gateway")).url);
    return [...urls].sort();
  }
}

/** Runs `work` for each item with at most `concurrency` at once; rejects on the first failure. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}
