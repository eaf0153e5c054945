// Polling from a page on another origin: the second fetch of an unchanged list is a 304 (docs/frontend.md,
// "Polling without paying for it"). Both ways a page gets there: the browser's own cache revalidating
// (the page sees its 200 again, the server answered 304 with no body), and a page that keeps its own copy
// and sends If-None-Match itself (the page sees the 304). A change by someone else changes the tag.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { accessLogSize, API, call, days, expectCall, launch, newUser, PAGE, waitForLog } from "./helpers.mjs";

let browser;
let alice;
let calendar;

before(async () => {
  alice = await newUser("etag");
  calendar = await expectCall(201, "POST", "/calendars/", {
    token: alice.access,
    body: { title: "Polled", days: days(1) },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function pageOnTheAllowedOrigin() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${PAGE}/etag-polling-test`); // any page of the origin: only its origin matters here
  return { context, page };
}

test("the browser revalidates a polled list: the server answers 304, the page gets its body again", async () => {
  const { context, page } = await pageOnTheAllowedOrigin();
  try {
    const offset = accessLogSize();
    const seen = await page.evaluate(
      async ({ api, token }) => {
        const get = () => fetch(`${api}/calendars/`, { headers: { Authorization: `Bearer ${token}` } });
        const first = await get();
        const firstBody = await first.text();
        const second = await get(); // the browser's cache sends If-None-Match: the server answers 304
        return {
          statuses: [first.status, second.status],
          etag: first.headers.get("ETag"),
          cacheControl: first.headers.get("Cache-Control"),
          same: firstBody === (await second.text()),
        };
      },
      { api: API, token: alice.access },
    );
    assert.deepEqual(seen.statuses, [200, 200]); // what the page sees: the body, from the browser's cache
    assert.match(seen.etag, /^"[0-9a-f]{32}"$/); // readable across origins (Access-Control-Expose-Headers)
    assert.equal(seen.cacheControl, "private, no-cache");
    assert.ok(seen.same);
    const lines = await waitForLog(offset, [/"GET \/calendars\/ HTTP\/1\.1" 200 /, /"GET \/calendars\/ HTTP\/1\.1" 304 /]);
    assert.equal(lines.filter((line) => line.includes('"GET /calendars/ HTTP/1.1"')).length, 2);
  } finally {
    await context.close();
  }
});

test("a page that keeps its own copy sends If-None-Match itself and sees the 304; a change is a 200", async () => {
  const { context, page } = await pageOnTheAllowedOrigin();
  try {
    const poll = (etag) =>
      page.evaluate(
        async ({ api, token, etag: sent }) => {
          const headers = { Authorization: `Bearer ${token}` };
          if (sent) headers["If-None-Match"] = sent; // allowed by the preflight
          const res = await fetch(`${api}/calendars/`, { headers, cache: "no-store" });
          return { status: res.status, etag: res.headers.get("ETag"), body: await res.text() };
        },
        { api: API, token: alice.access, etag },
      );
    const first = await poll(null);
    assert.equal(first.status, 200);
    const second = await poll(first.etag);
    assert.equal(second.status, 304);
    assert.equal(second.body, "");
    assert.equal(second.etag, first.etag);
    await call("POST", `/calendars/${calendar.id}/day/${calendar.days[0].id}/timeslot/`, {
      token: alice.access,
      body: { start_time: "09:00", end_time: "10:00" },
    });
    const third = await poll(first.etag);
    assert.equal(third.status, 200);
    assert.notEqual(third.etag, first.etag);
    assert.equal(JSON.parse(third.body).results[0].days[0].timeslots.length, 1);
  } finally {
    await context.close();
  }
});
