// A static page on another origin calls the API with fetch: CORS preflight, JWT sign-in,
// tokens kept across a reload, one refresh on 401, sign-out when the refresh is refused,
// and an origin that is not allowed is refused by the browser.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  accessLogSize,
  API,
  befriend,
  call,
  days,
  expectCall,
  expired,
  guardedContext,
  launch,
  newUser,
  OTHER_PAGE,
  PAGE,
  PASSWORD,
  screenshotPath,
  waitForLog,
} from "./helpers.mjs";

const pageUrl = (origin) => `${origin}/?api=${encodeURIComponent(API)}`;
const TOKENS_KEY = "oneonone.tokens";

let browser;
let alice;
let shownTitles; // what alice should see: her calendars and the one she takes part in
let hiddenTitle; // a calendar of bob's she was never invited to

before(async () => {
  alice = await newUser("alice");
  const bob = await newUser("bob");
  await befriend(alice, bob);
  const mine = ["Alpha planning <b>", "Beta retro"];
  for (const title of mine) {
    await expectCall(201, "POST", "/calendars/", { token: alice.access, body: { title, days: days(2) } });
  }
  const shared = await expectCall(201, "POST", "/calendars/", {
    token: bob.access,
    body: { title: "Bob's book club", days: days(1) },
  });
  hiddenTitle = "Bob's secret party";
  await expectCall(201, "POST", "/calendars/", { token: bob.access, body: { title: hiddenTitle, days: days(1) } });
  const invitation = await expectCall(201, "POST", `/calendars/${shared.id}/invitations/`, {
    token: bob.access,
    body: { invitee_username: alice.username },
  });
  await expectCall(204, "PUT", `/calendars/${shared.id}/invitations/${invitation.id}/`, {
    token: alice.access,
    body: { status: "accepted" },
  });
  shownTitles = [...mine, "Bob's book club"].sort();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function titlesOn(page) {
  return (await page.locator("#calendars li .title").allTextContents()).sort();
}

async function storedTokens(page) {
  return page.evaluate((key) => JSON.parse(sessionStorage.getItem(key)), TOKENS_KEY);
}

describe("a page on an allowed origin", () => {
  let guarded;
  let page;

  before(async () => {
    guarded = await guardedContext(browser);
    page = await guarded.context.newPage();
  });

  after(async () => {
    await guarded?.context.close();
  });

  test("signs in with fetch, lists the calendars and keeps its tokens across a reload", async () => {
    const logStart = accessLogSize();
    await page.goto(pageUrl(PAGE));
    await page.fill("#username", alice.username);
    await page.fill("#password", PASSWORD);
    await page.click("#sign-in-button");
    await page.locator("#status", { hasText: `Signed in as ${alice.username}.` }).waitFor();

    assert.deepEqual(await titlesOn(page), shownTitles);
    assert.equal(await page.textContent("#calendar-count"), "3");
    assert.ok(!(await titlesOn(page)).includes(hiddenTitle));
    // The title is text, not markup: "<b>" shows literally.
    assert.equal(await page.locator("#calendars b").count(), 0);
    await page.screenshot({ path: screenshotPath("frontend-signed-in.png"), fullPage: true });

    const tokens = await storedTokens(page);
    assert.match(tokens.access, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(tokens.refresh, /^[\w-]+\.[\w-]+\.[\w-]+$/);

    // Preflights were asked and answered: JSON bodies and the Authorization header are not "simple".
    await waitForLog(logStart, [
      /"OPTIONS \/auth\/login\/ HTTP\/1\.1" 200/,
      /"POST \/auth\/login\/ HTTP\/1\.1" 200/,
      /"OPTIONS \/calendars\/\?page_size=100 HTTP\/1\.1" 200/,
      /"GET \/calendars\/\?page_size=100 HTTP\/1\.1" (200|304)/,
    ]);

    // A reload signs in again from sessionStorage, without the login endpoint.
    const reloadStart = accessLogSize();
    await page.reload();
    await page.locator("#status", { hasText: `Signed in as ${alice.username}.` }).waitFor();
    assert.deepEqual(await titlesOn(page), shownTitles);
    const reloadLog = await waitForLog(reloadStart, [/"GET \/calendars\/\?page_size=100 HTTP\/1\.1" (200|304)/]);
    assert.ok(!reloadLog.some((line) => line.includes("/auth/login/")), reloadLog.join("\n"));
    assert.deepEqual(await guarded.outside(), [], "requests to hosts other than 127.0.0.1");
  });

  test("an expired access token is refreshed once for two parallel calls, then they are retried", async () => {
    const before = await storedTokens(page);
    await page.evaluate(
      ([key, tokens]) => sessionStorage.setItem(key, JSON.stringify(tokens)),
      [TOKENS_KEY, { ...before, access: expired(before.access) }],
    );
    const logStart = accessLogSize();
    const refreshesBefore = guarded.requests.filter((r) => r.url === `${API}/auth/refresh/` && r.method === "POST");

    await page.click("#reload");
    await page.locator("#refresh-count", { hasText: "1" }).waitFor();
    await page.locator("#status", { hasText: `Signed in as ${alice.username}.` }).waitFor();
    assert.deepEqual(await titlesOn(page), shownTitles);

    // Both calls met a real 401 (an expired token, correctly signed), then succeeded after one refresh.
    const log = await waitForLog(logStart, [
      /"GET \/auth\/me\/ HTTP\/1\.1" 200/,
      /"GET \/calendars\/\?page_size=100 HTTP\/1\.1" (200|304)/,
    ]);
    const count = (pattern) => log.filter((line) => pattern.test(line)).length;
    assert.equal(count(/"GET \/auth\/me\/ HTTP\/1\.1" 401/), 1, log.join("\n"));
    assert.equal(count(/"GET \/calendars\/\?page_size=100 HTTP\/1\.1" 401/), 1, log.join("\n"));
    assert.equal(count(/"POST \/auth\/refresh\/ HTTP\/1\.1" 200/), 1, log.join("\n"));
    assert.equal(count(/"GET \/auth\/me\/ HTTP\/1\.1" 200/), 1, log.join("\n"));
    assert.equal(count(/"GET \/calendars\/\?page_size=100 HTTP\/1\.1" (200|304)/), 1, log.join("\n"));
    const refreshes = guarded.requests.filter((r) => r.url === `${API}/auth/refresh/` && r.method === "POST");
    assert.equal(refreshes.length - refreshesBefore.length, 1);

    // Rotation: the page holds a new pair, and the refresh token it gave up is revoked.
    const now = await storedTokens(page);
    assert.notEqual(now.refresh, before.refresh);
    assert.notEqual(now.access, before.access);
    const reused = await call("POST", "/auth/refresh/", { body: { refresh: before.refresh } });
    assert.equal(reused.status, 401);
    assert.deepEqual(reused.body, { detail: "Token is blacklisted", code: "token_not_valid" });
    await expectCall(200, "GET", "/auth/me/", { token: now.access });
  });

  test("a write carries an Idempotency-Key, and sent again with it is answered the first answer", async () => {
    // The page's own write: saving a day of a calendar (an empty day) goes out with a key the page made.
    const sent = page.waitForRequest((r) => r.method() === "PUT" && r.url().includes("/timeslot/"));
    await page.locator("#calendars li .title").first().click();
    await page.locator("#calendar-view").waitFor();
    await page.click("#save-day");
    await page.locator("#grid-status", { hasText: "Saved: 0 slots." }).waitFor();
    // It went through the preflight: the key is an allowed header.
    assert.match((await sent).headers()["idempotency-key"], /^[0-9a-f-]{36}$/);

    // The same write twice with one key from this origin, as after a lost answer: done once, and the
    // second answer is the first one, with Idempotent-Replayed readable across origins.
    const body = { title: `Keyed ${Date.now()}`, days: days(1) };
    const [once, twice] = await page.evaluate(
      async ([api, tokensKey, body]) => {
        const { access } = JSON.parse(sessionStorage.getItem(tokensKey));
        const key = crypto.randomUUID();
        const send = async () => {
          const r = await fetch(`${api}/calendars/`, {
            method: "POST",
            headers: {
              Accept: "application/json",
              "Content-Type": "application/json",
              Authorization: `Bearer ${access}`,
              "Idempotency-Key": key,
            },
            body: JSON.stringify(body),
          });
          return { status: r.status, text: await r.text(), replayed: r.headers.get("Idempotent-Replayed") };
        };
        return [await send(), await send()];
      },
      [API, TOKENS_KEY, body],
    );
    assert.deepEqual([once.status, once.replayed], [201, null]);
    assert.deepEqual([twice.status, twice.text, twice.replayed], [201, once.text, "true"]); // readable: exposed
    const { access } = await storedTokens(page);
    const listed = await expectCall(200, "GET", "/calendars/?page_size=100", { token: access });
    const titles = listed.results.map((c) => c.title).filter((t) => t.startsWith(body.title));
    assert.deepEqual(titles, [body.title]); // created once
  });

  test("a refused refresh signs the page out", async () => {
    const current = await storedTokens(page);
    await expectCall(204, "POST", "/auth/logout/", { body: { refresh: current.refresh } }); // revoked elsewhere
    await page.evaluate(
      ([key, tokens]) => sessionStorage.setItem(key, JSON.stringify(tokens)),
      [TOKENS_KEY, { ...current, access: expired(current.access) }],
    );
    await page.click("#reload");
    await page.locator("#status", { hasText: "Your session has expired; sign in again." }).waitFor();
    assert.ok(await page.isVisible("#sign-in"));
    assert.ok(await page.isHidden("#calendar-section"));
    assert.equal(await storedTokens(page), null);
  });
});

describe("a page on an origin that CORS_ALLOWED_ORIGINS does not list", () => {
  let guarded;
  let page;

  before(async () => {
    guarded = await guardedContext(browser);
    page = await guarded.context.newPage();
  });

  after(async () => {
    await guarded?.context.close();
  });

  test("cannot sign in: the preflight is refused, so the login is never sent", async () => {
    const logStart = accessLogSize();
    await page.goto(pageUrl(OTHER_PAGE));
    await page.fill("#username", alice.username);
    await page.fill("#password", PASSWORD);
    await page.click("#sign-in-button");
    await page.locator("#status", { hasText: "not allowed by CORS" }).waitFor();
    await page.screenshot({ path: screenshotPath("frontend-other-origin.png"), fullPage: true });

    const log = await waitForLog(logStart, [/"OPTIONS \/auth\/login\/ HTTP\/1\.1" 200/]);
    assert.ok(!log.some((line) => line.includes('"POST /auth/login/')), log.join("\n"));
    assert.equal(await storedTokens(page), null);
  });

  test("cannot read a response even of a simple request the server answered", async () => {
    const logStart = accessLogSize();
    const outcome = await page.evaluate(async (api) => {
      try {
        const response = await fetch(`${api}/healthz/`);
        return `read ${response.status}`;
      } catch (error) {
        return `${error.name}: ${error.message}`;
      }
    }, API);
    assert.equal(outcome, "TypeError: Failed to fetch");
    await waitForLog(logStart, [/"GET \/healthz\/ HTTP\/1\.1" 200/]);
  });

  test("the server names only the allowed origin (checked outside the browser too)", async () => {
    const preflight = (origin) =>
      fetch(`${API}/calendars/`, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "authorization",
        },
      });
    const allowed = await preflight(new URL(PAGE).origin);
    assert.equal(allowed.headers.get("access-control-allow-origin"), new URL(PAGE).origin);
    assert.match(allowed.headers.get("access-control-allow-headers"), /authorization/);
    const refused = await preflight(new URL(OTHER_PAGE).origin);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);

    // A throttled client must be able to read how long to wait (not a CORS-safelisted header).
    const answer = await fetch(`${API}/healthz/`, { headers: { Origin: new URL(PAGE).origin } });
    assert.equal(answer.headers.get("access-control-allow-origin"), new URL(PAGE).origin);
    assert.match(
      answer.headers.get("access-control-expose-headers") ?? "",
      /retry-after/i,
      "CORS_EXPOSE_HEADERS must list Retry-After, or a frontend cannot tell how long to wait after a 429",
    );
  });
});
