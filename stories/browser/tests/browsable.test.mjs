// The browsable API with a session (log in, create a calendar through its form) and the
// two docs viewers, each of which must list every operation of the schema without
// loading anything from another host.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { API, days, DOCS, expectCall, guardedContext, launch, newUser, PASSWORD, screenshotPath } from "./helpers.mjs";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let browser;
let operations; // [{method: "POST", path: "/calendars/", operationId}] from the served schema

before(async () => {
  browser = await launch();
  const schema = await expectCall(200, "GET", "/schema/?format=json");
  operations = Object.entries(schema.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operationId: operation.operationId })),
  );
  assert.ok(operations.length >= 30, `only ${operations.length} operations in the schema`);
});

after(async () => {
  await browser?.close();
});

const keys = (list) => list.map((op) => `${op.method} ${op.path}`).sort();

describe("in a browser on the API's own origin", () => {
  let guarded;
  let page;

  before(async () => {
    guarded = await guardedContext(browser);
    page = await guarded.context.newPage();
  });

  after(async () => {
    await guarded?.context.close();
  });

  test("a session login in the browsable API, then a calendar created through its form", async () => {
    const user = await newUser("dora");
    await page.goto(`${API}/api-auth/login/?next=/calendars/`);
    await page.fill("#id_username", user.username);
    await page.fill("#id_password", PASSWORD);
    await Promise.all([page.waitForURL(`${API}/calendars/`), page.click("#submit-id-submit, [type=submit]")]);
    assert.ok(await page.locator(".navbar", { hasText: user.username }).isVisible());
    assert.ok(await page.locator(".response-info", { hasText: "HTTP 200 OK" }).isVisible());

    // The raw-data form: JSON in a textarea, posted by the page's own script with the CSRF token.
    const title = "Made in the browsable API";
    const form = page.locator("#post-generic-content-form");
    const rawTab = page.locator('a[name="raw-tab"]');
    if (await rawTab.isVisible()) await rawTab.click();
    await form.locator('select[name="_content_type"]').selectOption("application/json");
    await form
      .locator('textarea[name="_content"]')
      .fill(JSON.stringify({ title, description: "Through the form", days: days(2, 60) }, null, 2));
    await form.locator("button", { hasText: "POST" }).click();
    await page.locator(".response-info", { hasText: "HTTP 201 Created" }).waitFor();
    assert.ok(await page.locator(".response-info", { hasText: title }).isVisible());
    await page.screenshot({ path: screenshotPath("browsable-created.png"), fullPage: false });

    // The calendar is really there, owned by the session's user.
    const list = await expectCall(200, "GET", "/calendars/", { token: user.access });
    assert.equal(list.count, 1);
    assert.equal(list.results[0].title, title);
    assert.equal(list.results[0].creator_username, user.username);
    assert.equal(list.results[0].days.length, 2);
    assert.deepEqual(await guarded.outside(), [], "requests to hosts other than 127.0.0.1");
  });

  test("Swagger UI at /docs/ lists every operation, loading nothing from another host", async () => {
    await page.goto(`${DOCS}/docs/`);
    await page.waitForFunction((n) => document.querySelectorAll(".opblock").length >= n, operations.length, {
      timeout: 20_000,
    });
    const shown = await page.$$eval(".opblock", (blocks) =>
      blocks.map((block) => ({
        method: block.querySelector(".opblock-summary-method").textContent.trim(),
        path: block.querySelector(".opblock-summary-path").getAttribute("data-path"),
      })),
    );
    assert.deepEqual(keys(shown), keys(operations));
    await page.screenshot({ path: screenshotPath("docs-swagger.png"), fullPage: false });
    assert.deepEqual(await guarded.outside(), [], "requests to hosts other than 127.0.0.1");
    assert.ok(guarded.requests.some((r) => r.url.startsWith(`${DOCS}/schema/`)));
  });

  test("ReDoc at /redoc/ lists every operation, loading nothing from another host", async () => {
    await page.goto(`${DOCS}/redoc/`);
    const ids = operations.map((op) => op.operationId);
    // ReDoc gives every operation a section whose id ends with "operation/<operationId>".
    await page.waitForFunction(
      (n) => document.querySelectorAll('[id*="operation/"]').length >= n,
      ids.length,
      { timeout: 30_000 },
    );
    const shown = await page.$$eval('[id*="operation/"]', (sections) =>
      sections.map((section) => section.id.split("operation/").pop()),
    );
    assert.deepEqual([...new Set(shown)].sort(), [...ids].sort());
    await page.screenshot({ path: screenshotPath("docs-redoc.png"), fullPage: false });
    assert.deepEqual(await guarded.outside(), [], "requests to hosts other than 127.0.0.1");
  });
});
