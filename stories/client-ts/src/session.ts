// A signed-in user's typed client: openapi-fetch over the generated `paths`, with the JWT pair held here.
//
// The transport (the `fetch` openapi-fetch calls) does what every frontend of this API must:
// - sends `Authorization: Bearer <access>` while signed in;
// - on a 401, refreshes once and retries once. Calls that fail together share one refresh: the
//   server revokes a refresh token when it is used (rotation), so a second refresh with the same
//   token would answer 401 and sign the user out. A call whose token is no longer the current one
//   (another call refreshed meanwhile) retries with the current token without refreshing;
// - on a 429, waits `Retry-After` seconds and tries again (a few times at most);
// - gives every signed-in write an `Idempotency-Key` (made once, or the caller's) and keeps it for
//   every attempt, so a write sent again is never done twice (docs/frontend.md, section 6).
import { randomUUID } from "node:crypto";

import createClient from "openapi-fetch";

import type { paths } from "./generated/api.js";

export type Tokens = { access: string; refresh: string };

/** What the transport did, for the story to check. */
export type Event =
  | { kind: "refreshed" }
  | { kind: "refresh-refused"; status: number }
  | { kind: "retried-after-401"; path: string }
  | { kind: "waited-after-429"; path: string; seconds: number };

// The token endpoints and registration take no access token: their 401 means wrong credentials, not expiry.
const WITHOUT_TOKEN = ["/auth/login/", "/auth/refresh/", "/auth/logout/", "/auth/register/", "/auth/email/verify/"];
const WRITES = ["POST", "PUT", "PATCH", "DELETE"];
const MAX_429_WAITS = 3;
const MAX_RETRY_AFTER_SECONDS = 30; // a longer wait is an answer to show the user, not to sleep through

export class SignedOut extends Error {}

export class Session {
  tokens: Tokens | null = null;
  readonly events: Event[] = [];
  readonly api;
  private refreshing: Promise<void> | null = null;
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: { Accept: "application/json" },
      fetch: (request) => this.send(request),
    });
  }

  count(kind: Event["kind"]): number {
    return this.events.filter((event) => event.kind === kind).length;
  }

  private async send(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const used = WITHOUT_TOKEN.includes(path) ? undefined : this.tokens?.access;
    if (used !== undefined && WRITES.includes(request.method) && !request.headers.has("Idempotency-Key")) {
      request.headers.set("Idempotency-Key", randomUUID()); // one per write, kept for every attempt
    }
    let response = await this.withRetryAfter(request, path, used);
    if (response.status !== 401 || used === undefined) {
      return response;
    }
    // Refresh unless another call did meanwhile (then the current token is already a new one).
    if (this.tokens?.access === used) {
      await this.refreshOnce();
    }
    const current = this.tokens?.access;
    if (current === undefined) {
      throw new SignedOut("The session has expired; sign in again.");
    }
    this.events.push({ kind: "retried-after-401", path });
    response = await this.withRetryAfter(request, path, current);
    return response;
  }

  /** One attempt, and more after a 429 for as long as the server asks (a few times at most). */
  private async withRetryAfter(original: Request, path: string, access: string | undefined): Promise<Response> {
    for (let attempt = 0; ; attempt += 1) {
      const request = original.clone(); // a body can be read once; the original stays for the next attempt
      if (access !== undefined) {
        request.headers.set("Authorization", `Bearer ${access}`);
      }
      const response = await fetch(request);
      if (response.status !== 429 || attempt >= MAX_429_WAITS) {
        return response;
      }
      const seconds = Number(response.headers.get("Retry-After") ?? "1");
      if (!Number.isFinite(seconds) || seconds > MAX_RETRY_AFTER_SECONDS) {
        return response;
      }
      await response.body?.cancel();
      this.events.push({ kind: "waited-after-429", path, seconds });
      await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 0) * 1000));
    }
  }

  /** The shared refresh: every call that met a 401 with the same token awaits this one. */
  refreshOnce(): Promise<void> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<void> {
    const tokens = this.tokens;
    if (tokens === null) {
      throw new SignedOut("Signed out.");
    }
    const { data, response } = await this.api.POST("/auth/refresh/", { body: { refresh: tokens.refresh } });
    if (data === undefined) {
      this.tokens = null;
      this.events.push({ kind: "refresh-refused", status: response.status });
      throw new SignedOut("The session has expired; sign in again.");
    }
    // Rotation: both tokens are new, and the refresh token just sent is revoked.
    this.tokens = { access: data.access, refresh: data.refresh };
    this.events.push({ kind: "refreshed" });
  }
}
