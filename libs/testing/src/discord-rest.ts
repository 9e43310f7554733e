import assert from "node:assert/strict";

/**
 * A bare client of a Discord-compatible REST API (`<baseUrl>/api/v10`) for tests: `call`
 * answers status and JSON body, `ok` asserts a 2xx and names the route, status and error body
 * when it is not. Suites extend it with the flows they need.
 */
export class DiscordRest {
  constructor(readonly baseUrl: string) {}

  /** `token` is sent as is: a person's bare token, or `Bot <token>`. */
  async call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = token;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.baseUrl}/api/v10${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async ok(method: string, path: string, token?: string, body?: unknown): Promise<any> {
    const res = await this.call(method, path, token, body);
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}
