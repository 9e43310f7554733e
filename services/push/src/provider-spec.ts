import { ApnsProvider } from "./apns-provider.js";
import { FcmProvider } from "./fcm-provider.js";
import type { Http2OriginOptions } from "./http2-origin.js";
import { ApnsProviderToken, GoogleAccessTokens, type ApnsKey, type GoogleServiceAccount } from "./provider-credentials.js";
import type { PushProvider } from "./push-request.js";
import { WebPushProvider, type WebPushOptions } from "./web-push-provider.js";

/**
 * A provider connection described by plain data, so that a worker thread can open it as well
 * as the main thread (closures and sockets do not cross threads).
 */
export type ProviderSpec =
  | { kind: "webpush"; options: WebPushOptions }
  | { kind: "fcm"; projectId: string; endpoint: string; account: GoogleServiceAccount; http2: Http2OriginOptions }
  | { kind: "apns"; endpoint: string; topic: string; key: ApnsKey; http2: Http2OriginOptions };

/**
 * Opens provider connections (one per sink) in the calling thread; the connections it opens
 * share their credentials: one OAuth token, one provider JWT.
 */
export class ProviderFactory {
  private readonly googleTokens = new Map<string, GoogleAccessTokens>();
  private readonly apnsTokens = new Map<string, ApnsProviderToken>();

  open(spec: ProviderSpec): PushProvider {
    switch (spec.kind) {
      case "webpush":
        return new WebPushProvider(spec.options);
      case "fcm": {
        const key = JSON.stringify([spec.account.client_email, spec.account.token_uri, spec.account.private_key_id]);
        let tokens = this.googleTokens.get(key);
        if (!tokens) this.googleTokens.set(key, (tokens = new GoogleAccessTokens(spec.account, { ca: spec.http2.ca })));
        return new FcmProvider({ projectId: spec.projectId, endpoint: spec.endpoint, tokens, ...spec.http2 });
      }
      case "apns": {
        const key = `${spec.key.teamId}/${spec.key.keyId}`;
        let tokens = this.apnsTokens.get(key);
        if (!tokens) this.apnsTokens.set(key, (tokens = new ApnsProviderToken(spec.key)));
        return new ApnsProvider({ endpoint: spec.endpoint, topic: spec.topic, tokens, ...spec.http2 });
      }
    }
  }
}
