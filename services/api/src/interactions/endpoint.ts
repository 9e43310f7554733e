import { InteractionResponseType, InteractionType } from "discord-api-types/v10";
import { InvalidFieldsError, fieldError } from "../accounts/account-errors.js";
import { newInteractionKeyPair, signedHeaders } from "./signatures.js";

/** How long an endpoint may take to answer a verification PING. */
const VERIFY_TIMEOUT_MS = 5_000;

export interface EndpointAnswer {
  status: number;
  body: unknown;
}

/** POSTs `body` signed with the application's private key; the JSON answer (undefined body when it is not JSON). */
export async function postSigned(url: string, privateKey: string, body: string, timeoutMs: number): Promise<EndpointAnswer> {
  const response = await fetch(url, { method: "POST", headers: signedHeaders(privateKey, body), body, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed };
}

const unverified = (why: string) =>
  new InvalidFieldsError([
    fieldError("interactions_endpoint_url", "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID", `The specified interactions endpoint url could not be verified: ${why}.`),
  ]);

/**
 * Checks an interactions endpoint as Discord does before saving it: a PING signed with
 * another key must be refused (the endpoint checks signatures), and a PING signed with the
 * application's key must be answered `{"type": 1}` (PONG). Anything else refuses the URL,
 * naming `interactions_endpoint_url` and what went wrong.
 */
export async function verifyInteractionsEndpoint(url: string, applicationId: bigint, privateKey: string): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidFieldsError([fieldError("interactions_endpoint_url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")]);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new InvalidFieldsError([fieldError("interactions_endpoint_url", "URL_TYPE_INVALID_PROTOCOL", "Not a well formed URL: only http and https.")]);
  }
  const ping = JSON.stringify({ id: "0", application_id: String(applicationId), type: InteractionType.Ping, token: "ping", version: 1 });
  const ask = async (key: string) => {
    try {
      return await postSigned(url, key, ping, VERIFY_TIMEOUT_MS);
    } catch (err) {
      throw unverified(`no answer (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  const forged = await ask(newInteractionKeyPair().privateKey);
  if (forged.status >= 200 && forged.status < 300) throw unverified("it accepted a PING with a wrong signature");
  const signed = await ask(privateKey);
  if (signed.status !== 200) throw unverified(`a signed PING was answered ${signed.status}`);
  const type = (signed.body as { type?: unknown } | undefined)?.type;
  if (type !== InteractionResponseType.Pong) throw unverified("a signed PING was not answered with a PONG ({\"type\": 1})");
}
