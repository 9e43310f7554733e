// What the api's end-to-end suites share to speak to the Discord REST API: plain HTTP calls
// and the checks of Discord's answers (schemas, form errors, 401s).
import assert from "node:assert/strict";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { ErrorResponseSchema, ErrorSchema } from "discord-api-spec/zod";

export interface HttpAnswer {
  status: number;
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** The Authorization header as sent (a bare token, "Bearer ...", "Bot ..."). */
  token?: string;
  /** A body sent as it is, as JSON. */
  raw?: string;
  /** More request headers (X-Audit-Log-Reason...). */
  headers?: Record<string, string>;
}

/** A discord-api-spec Zod schema, as the checks use it. */
export type Schema = { safeParse(value: unknown): { success: boolean; error?: unknown } };

/** One HTTP request to `baseUrl + path`; the answer's JSON body, if any. */
export async function httpCall(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = options.token;
  if (options.body !== undefined || options.raw !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Asserts `schema` (a discord-api-spec Zod schema) accepts `value`, printing Zod's complaint otherwise. */
export function assertMatches(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, value: unknown, what: string) {
  const result = schema.safeParse(value);
  assert.ok(result.success, `${what} does not match Discord's schema: ${JSON.stringify(result.error)}\n${JSON.stringify(value)}`);
}

/** Asserts Discord's Invalid Form Body naming exactly `fields` (each with `code` when given). */
export function assertFormErrors(res: HttpAnswer, fields: Record<string, string | undefined>) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, RESTJSONErrorCodes.InvalidFormBodyOrContentType);
  assert.equal(res.body.message, "Invalid Form Body");
  // Only the envelope: discord-api-spec types the codes under `_errors` as numbers, but
  // Discord sends strings there (BASE_TYPE_REQUIRED...), as discord-api-types and
  // @discordjs/rest expect them; the nested shape is checked below.
  assertMatches(ErrorSchema, res.body, "the error");
  assert.deepEqual(Object.keys(res.body.errors).sort(), Object.keys(fields).sort(), JSON.stringify(res.body.errors));
  for (const [field, code] of Object.entries(fields)) {
    const errors = res.body.errors[field]._errors as { code: string; message: string }[];
    assert.ok(errors.length > 0 && errors.every((e) => e.message.length > 0), field);
    if (code) assert.equal(errors[0].code, code, `${field}: ${JSON.stringify(errors)}`);
  }
}

/** Discord's nested form errors flattened: each field's dotted path and the code of its first error. */
export function formErrorCodes(errors: unknown): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (node: Record<string, unknown>, at: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      if (key === "_errors") found[at.join(".")] = (value as { code: string }[])[0].code;
      else walk(value as Record<string, unknown>, [...at, key]);
    }
  };
  walk((errors ?? {}) as Record<string, unknown>, []);
  return found;
}

export function assertUnauthorized(res: HttpAnswer) {
  assert.equal(res.status, 401);
  assert.deepEqual(res.body, { message: "401: Unauthorized", code: 0 });
}

/** Asserts Discord's `{code, message}` error with `status`. */
export function assertDiscordError(res: HttpAnswer, status: number, code: number, message?: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  if (message !== undefined) assert.equal(res.body.message, message);
}

/**
 * Calls to the Discord API under `baseUrl()` (read when called, so a suite can make them before
 * its Chorus is up) with the checks every end-to-end suite makes of the answers.
 */
export function discordRequests(baseUrl: () => string) {
  const call = (method: string, path: string, options: CallOptions = {}) => httpCall(baseUrl(), method, path, options);

  /** A successful call: its status and Discord's schema checked (each item of a list), its body returned. */
  async function ok(status: number, schema: Schema | undefined, method: string, path: string, options: CallOptions = {}) {
    const res = await call(method, path, options);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    if (schema) {
      if (Array.isArray(res.body)) res.body.forEach((item: unknown, i: number) => assertMatches(schema, item, `${method} ${path} [${i}]`));
      else assertMatches(schema, res.body, `${method} ${path}`);
    }
    return res.body;
  }

  /** Discord's error: status and code, checked against the spec's outer error schema. */
  async function fails(status: number, code: number, method: string, path: string, options: CallOptions = {}) {
    const res = await call(method, path, options);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, code, `${method} ${path}: ${JSON.stringify(res.body)}`);
    // Only the envelope for form errors: discord-api-spec types the codes under `_errors` as
    // numbers, Discord sends strings (BASE_TYPE_REQUIRED...).
    assertMatches(code === RESTJSONErrorCodes.InvalidFormBodyOrContentType ? ErrorSchema : ErrorResponseSchema, res.body, `${method} ${path} error`);
    return res.body;
  }

  /** 50035 Invalid Form Body naming exactly `fields` (dotted paths) with their codes. */
  async function formErrors(fields: Record<string, string>, method: string, path: string, options: CallOptions = {}) {
    const body = await fails(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType, method, path, options);
    assert.equal(body.message, "Invalid Form Body");
    assert.deepEqual(formErrorCodes(body.errors), fields, JSON.stringify(body.errors));
  }

  /** Registers a person named `username` (fresh per call: the caller's business), asserting 201. */
  async function registerPerson(username: string): Promise<{ id: string; token: string; username: string }> {
    const res = await call("POST", "/auth/register", { body: { username, email: `${username}@example.com`, password: `pw-${username}-secret` } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.user_id as string, token: res.body.token as string, username };
  }

  return { call, ok, fails, formErrors, registerPerson };
}
