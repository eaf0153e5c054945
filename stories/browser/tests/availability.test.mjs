// The sample page's calendar view: paint my availability on a day's half-hour grid by dragging,
// save the whole day with one PUT (a CORS preflight first), see it kept after a reload, and read
// everyone's availability in the heat map.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  accessLogSize,
  API,
  befriend,
  days,
  expectCall,
  guardedContext,
  launch,
  newUser,
  PAGE,
  PASSWORD,
  screenshotPath,
  waitForLog,
} from "./helpers.mjs";

let browser;
let painter; // signs in to the page and paints
let friend; // a participant with a "yes" slot 10:00-11:00 on the first day
let calendar;
let day; // the first day

before(async () => {
  painter = await newUser("painter");
  friend = await newUser("friend");
  await befriend(painter, friend);
  calendar = await expectCall(201, "POST", "/calendars/", {
    token: painter.access,
    body: { title: "Offsite", days: days(2, 40) },
  });
  day = calendar.days[0];
  const invitation = await expectCall(201, "POST", `/calendars/${calendar.id}/invitations/`, {
    token: painter.access,
    body: { invitee_username: friend.username },
  });
  await expectCall(204, "PUT", `/calendars/${calendar.id}/invitations/${invitation.id}/`, {
    token: friend.access,
    body: { status: "accepted" },
  });
  await expectCall(201, "POST", `/calendars/${calendar.id}/day/${day.id}/timeslot/`, {
    token: friend.access,
    body: { start_time: "10:00", end_time: "11:00" },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

const cell = (page, start) => page.locator(`#grid button.cell[data-start="${start}"]`);

async function preferences(page, starts) {
  return Promise.all(starts.map((start) => cell(page, start).getAttribute("data-preference")));
}

describe("the calendar view of the page", () => {
  let guarded;
  let page;

  before(async () => {
    guarded = await guardedContext(browser);
    page = await guarded.context.newPage();
    await page.goto(`${PAGE}/?api=${encodeURIComponent(API)}`);
    await page.fill("#username", painter.username);
    await page.fill("#password", PASSWORD);
    await page.click("#sign-in-button");
    await page.locator("#status", { hasText: `Signed in as ${painter.username}.` }).waitFor();
  });

  after(async () => {
    await guarded?.context.close();
  });

  test("paints 09:00-10:30 yes and 10:30-11:00 if need be, and saves them with one PUT", async () => {
    await page.click(`#calendars li[data-id="${calendar.id}"] .title`);
    await page.locator("#calendar-view").waitFor();
    assert.equal(await page.inputValue("#day-select"), String(day.id));
    assert.equal(await page.locator("#grid button.cell").count(), 47);
    // The heat map before: the friend alone, 10:00-11:00.
    const before = page.locator(`#heatmap .day-column[data-day="${day.id}"] .interval`);
    await before.first().waitFor();
    assert.deepEqual(await before.evaluateAll((blocks) => blocks.map((b) => [b.dataset.start, b.dataset.yes])), [
      ["10:00", friend.username],
    ]);

    const puts = [];
    page.on("request", (request) => {
      if (request.method() === "PUT" && request.url().includes("/timeslot/")) puts.push(request);
    });
    const logStart = accessLogSize();

    // Drag from 09:00 to 10:00 with the "yes" brush (three cells), then click 10:30 with "if need be".
    await page.click("#brush-yes");
    await cell(page, "09:00").hover();
    await page.mouse.down();
    await cell(page, "10:00").hover();
    await page.mouse.up();
    await page.click("#brush-if-need-be");
    await cell(page, "10:30").click();
    assert.deepEqual(await preferences(page, ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]), [
      "",
      "yes",
      "yes",
      "yes",
      "if_need_be",
      "",
    ]);

    await page.click("#save-day");
    await page.locator("#grid-status", { hasText: "Saved: 2 slots." }).waitFor();
    assert.equal(puts.length, 1, `PUTs: ${puts.map((r) => r.url()).join(", ")}`);
    assert.equal(puts[0].url(), `${API}/calendars/${calendar.id}/day/${day.id}/timeslot/`);
    assert.deepEqual(puts[0].postDataJSON(), [
      { start_time: "09:00", end_time: "10:30", preference: "yes" },
      { start_time: "10:30", end_time: "11:00", preference: "if_need_be" },
    ]);
    // The browser asked first: a PUT with a JSON body and a token is not a "simple" request.
    const path = `/calendars/${calendar.id}/day/${day.id}/timeslot/`;
    const log = await waitForLog(logStart, [
      new RegExp(`"OPTIONS ${path} HTTP/1\\.1" 200`),
      new RegExp(`"PUT ${path} HTTP/1\\.1" 200`),
    ]);
    assert.equal(log.filter((line) => line.includes(`"PUT ${path}`)).length, 1, log.join("\n"));

    // The server holds exactly those slots.
    const stored = await expectCall(200, "GET", `${path}?page_size=100`, { token: painter.access });
    assert.deepEqual(
      stored.results
        .filter((slot) => slot.owner_username === painter.username)
        .map((slot) => [slot.start_time, slot.end_time, slot.preference]),
      [
        ["09:00:00", "10:30:00", "yes"],
        ["10:30:00", "11:00:00", "if_need_be"],
      ],
    );
    await page.screenshot({ path: screenshotPath("availability-saved.png"), fullPage: true });
  });

  test("after a reload the day is painted from the server, and the heat map names me if need be", async () => {
    await page.reload();
    await page.locator("#status", { hasText: `Signed in as ${painter.username}.` }).waitFor();
    await page.locator("#calendar-view").waitFor(); // reopened from the address (#calendar=..&day=..)
    await cell(page, "09:00").waitFor();
    assert.deepEqual(await preferences(page, ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]), [
      "",
      "yes",
      "yes",
      "yes",
      "if_need_be",
      "",
    ]);

    const blocks = page.locator(`#heatmap .day-column[data-day="${day.id}"] .interval`);
    await blocks.first().waitFor();
    const shown = await blocks.evaluateAll((elements) =>
      elements.map((b) => ({
        start: b.dataset.start,
        end: b.dataset.end,
        count: b.dataset.count,
        yes: b.dataset.yes,
        ifNeedBe: b.dataset.ifNeedBe,
        title: b.title,
      })),
    );
    const me = painter.username;
    assert.deepEqual(
      shown.map(({ title, ...block }) => block),
      [
        { start: "09:00", end: "10:00", count: "1", yes: me, ifNeedBe: "" },
        { start: "10:00", end: "10:30", count: "2", yes: [me, friend.username].sort().join(","), ifNeedBe: "" },
        { start: "10:30", end: "11:00", count: "2", yes: friend.username, ifNeedBe: me },
      ],
    );
    assert.match(shown[2].title, new RegExp(`if need be: ${me}`));
    // Placed by time: later intervals lower down, the longer one taller.
    const boxes = await blocks.evaluateAll((elements) => elements.map((b) => b.getBoundingClientRect().toJSON()));
    assert.ok(boxes[0].top < boxes[1].top && boxes[1].top < boxes[2].top, JSON.stringify(boxes));
    assert.ok(boxes[0].height > boxes[1].height * 1.5, JSON.stringify(boxes));
    await page.screenshot({ path: screenshotPath("availability-heatmap.png"), fullPage: true });
    assert.deepEqual(await guarded.outside(), [], "requests to hosts other than 127.0.0.1");
  });

  test("clearing the day sends an empty list; a finalized meeting answers 409, shown as its detail", async () => {
    await page.click("#brush-clear");
    await cell(page, "09:00").hover();
    await page.mouse.down();
    await cell(page, "10:30").hover();
    await page.mouse.up();
    const sent = page.waitForRequest((request) => request.method() === "PUT" && request.url().includes("/timeslot/"));
    await page.click("#save-day");
    assert.deepEqual((await sent).postDataJSON(), []);
    await page.locator("#grid-status", { hasText: "Saved: 0 slots." }).waitFor();

    await expectCall(200, "POST", `/calendars/${calendar.id}/finalize/`, {
      token: painter.access,
      body: { date: day.date, start_time: "10:00", end_time: "11:00" },
    });
    await page.click("#brush-yes");
    await cell(page, "12:00").click();
    await page.click("#save-day");
    await page.locator("#grid-status.error", { hasText: "Not saved: The meeting is finalized" }).waitFor();
  });
});
