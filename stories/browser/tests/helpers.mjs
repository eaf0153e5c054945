// Shared by the browser tests: the servers' addresses (from scripts/ci/browser.sh), a
// headless Debian Chromium that may only talk to 127.0.0.1, and API calls made from Node.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { chromium } from "playwright-core";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the browser tests with scripts/ci/browser.sh`);
  return value;
}

export const API = required("E2E_API_URL"); // http://127.0.0.1:<port>
export const PAGE = required("E2E_PAGE_URL"); // an origin listed in CORS_ALLOWED_ORIGINS
export const OTHER_PAGE = required("E2E_OTHER_PAGE_URL"); // the same page on an origin that is not listed
export const JWT_KEY = required("E2E_JWT_SIGNING_KEY");
export const ACCESS_LOG = required("E2E_ACCESS_LOG");
export const SHOTS = required("E2E_SCREENSHOTS");
export const PASSWORD = "e2e-Browser-pass-42";
// The docs are opened under a public-looking name that the browser maps to 127.0.0.1: Swagger UI
// skips its online validator badge for localhost and 127.0.0.1 only, and must skip it everywhere.
export const DOCS_HOST = "docs.oneonone.test";
export const DOCS = `http://${DOCS_HOST}:${new URL(API).port}`;

const CHROMIUM = process.env.E2E_CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  // Nothing leaves the machine: other host names do not resolve, and any other address
  // (an IP literal) goes to a proxy port nobody listens on. Loopback bypasses the proxy.
  `--host-resolver-rules=MAP ${DOCS_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
  "--proxy-server=http://127.0.0.1:9",
  `--proxy-bypass-list=${DOCS_HOST}`,
];

// Playwright gives every launch a fresh temporary --user-data-dir and removes it on close.
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

// How Playwright reports a request that the page's Content-Security-Policy stopped before it left.
const BLOCKED_BY_CSP = new Set(["csp", "net::ERR_BLOCKED_BY_CSP"]);

/**
 * A fresh context whose every request is recorded. No request interception here: Playwright
 * answers CORS preflights itself while routes are active, which would hide what the server says.
 * The launch flags keep the browser on this machine; `outside()` lists what it tried elsewhere.
 */
export async function guardedContext(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const requests = [];
  const byRequest = new Map();
  context.on("request", (request) => {
    const record = { method: request.method(), url: request.url(), failure: null };
    requests.push(record);
    byRequest.set(request, record);
  });
  context.on("requestfailed", (request) => {
    const record = byRequest.get(request);
    if (record) record.failure = request.failure()?.errorText ?? "failed";
  });
  /** Requests to other hosts, except those the page's own Content-Security-Policy stopped in the browser. */
  async function outside() {
    await new Promise((resolve) => setTimeout(resolve, 300)); // let failures of the last requests arrive
    return requests
      .filter((record) => !isLocal(record.url) && !BLOCKED_BY_CSP.has(record.failure))
      .map((record) => record.url);
  }
  return { context, requests, outside };
}

export function isLocal(url) {
  const parsed = new URL(url);
  if (parsed.protocol === "data:" || parsed.protocol === "blob:" || url === "about:blank") return true;
  return parsed.hostname === "127.0.0.1" || parsed.hostname === DOCS_HOST;
}

export function screenshotPath(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, name);
}

export function uniqueName(prefix) {
  return `${prefix}${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
}

export async function call(method, urlPath, { token, body, headers = {} } = {}) {
  const response = await fetch(API + urlPath, {
    method,
    headers: {
      Accept: "application/json",
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export async function expectCall(status, method, urlPath, options) {
  const response = await call(method, urlPath, options);
  assert.equal(response.status, status, `${method} ${urlPath}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Register a user through the API and log in; returns {username, access, refresh}. */
export async function newUser(prefix) {
  const username = uniqueName(prefix);
  await expectCall(201, "POST", "/auth/register/", { body: { username, password: PASSWORD, password2: PASSWORD } });
  const tokens = await expectCall(200, "POST", "/auth/login/", { body: { username, password: PASSWORD } });
  return { username, ...tokens };
}

export async function befriend(a, b) {
  await expectCall(200, "POST", "/contacts/add/", { token: a.access, body: { username: b.username } });
  await expectCall(200, "POST", "/contacts/accept/", { token: b.access, body: { username: a.username } });
}

export function days(count, startOffset = 30) {
  const start = Date.now() + startOffset * 86_400_000;
  return Array.from({ length: count }, (_, index) => ({
    date: new Date(start + index * 86_400_000).toISOString().slice(0, 10),
    ranking: index + 1,
  }));
}

/** The same token with its expiry moved into the past, signed with the server's key (HS256). */
export function expired(token) {
  const [header, payload] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  claims.exp = Math.floor(Date.now() / 1000) - 60;
  const body = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature = crypto.createHmac("sha256", JWT_KEY).update(body).digest("base64url");
  return `${body}.${signature}`;
}

/** gunicorn's access log lines ("METHOD /path HTTP/1.1" status ...) written since `offset` bytes. */
export function accessLogSince(offset) {
  const text = fs.readFileSync(ACCESS_LOG);
  return text.subarray(offset).toString("utf8").split("\n").filter(Boolean);
}

/**
 * The access log since `offset`, once every pattern has matched `times` lines. gunicorn writes
 * a line just after the response is sent, so the browser can be a moment ahead of the log.
 */
export async function waitForLog(offset, patterns, { times = 1, timeout = 5_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const lines = accessLogSince(offset);
    const missing = patterns.filter((pattern) => lines.filter((line) => pattern.test(line)).length < times);
    if (missing.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 200)); // let stragglers land before counting
      return accessLogSince(offset);
    }
    if (Date.now() > deadline) {
      assert.fail(`access log: no line for ${missing.join(", ")} in:\n${lines.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function accessLogSize() {
  return fs.statSync(ACCESS_LOG).size;
}
