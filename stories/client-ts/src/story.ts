// The whole OneOnOne story as a single-page frontend would call it: TypeScript types generated from the
// live /schema/ (openapi-typescript --read-write-markers), calls through openapi-fetch, `tsc --strict`.
// No `any`, no casts, no non-null assertions: where an answer may lack something, the code checks.
//
// Usage: node build/story.js http://127.0.0.1:8000   (scripts/ci/client_ts.sh builds and runs it)
// Environment: STORY_JWT_SIGNING_KEY, the server's JWT key, to make an expired access token (the 401 step).
// Prints one line per step and last `client-ts: N passed, M failed[, K skipped]`; a failed step skips the rest.
import { createHmac, randomBytes, randomUUID } from "node:crypto";

import { Session, SignedOut } from "./session.js";

class StoryFailure extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new StoryFailure(message);
  }
}

function same(actual: unknown, expected: unknown, what: string): void {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${what}: ${JSON.stringify(actual)}`);
}

type Answer<D, E> = { data?: D; error?: E; response: Response };

/** The call answered `status` with a body: its data, typed from the schema. */
async function body<D, E>(call: Promise<Answer<D, E>>, status: number, what: string): Promise<D> {
  const { data, error, response } = await call;
  check(response.status === status, `${what}: expected ${status}, got ${response.status} ${JSON.stringify(error)}`);
  check(data !== undefined, `${what}: no body`);
  return data;
}

/** The call answered `status` (an error status): the error body, typed from the schema. */
async function refusal<D, E>(call: Promise<Answer<D, E>>, status: number, what: string): Promise<E> {
  const { data, error, response } = await call;
  check(response.status === status, `${what}: expected ${status}, got ${response.status} ${JSON.stringify(data)}`);
  check(error !== undefined, `${what}: no error body`);
  return error;
}

/** The call answered `status` without a body (204). */
async function done<D, E>(call: Promise<Answer<D, E>>, status: number, what: string): Promise<void> {
  const { error, response } = await call;
  check(response.status === status, `${what}: expected ${status}, got ${response.status} ${JSON.stringify(error)}`);
}

function detailOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "detail" in error && typeof error.detail === "string") {
    return error.detail;
  }
  return JSON.stringify(error);
}

function isoDate(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
}

/** The same access token with its expiry in the past, signed with the server's key (HS256). */
function expired(token: string, key: string): string {
  const [header, payload] = token.split(".");
  check(header !== undefined && payload !== undefined, "the access token is not a JWT");
  const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString());
  check(typeof claims === "object" && claims !== null, "the token's claims are not an object");
  const moved = { ...claims, exp: Math.floor(Date.now() / 1000) - 60 };
  const unsigned = `${header}.${Buffer.from(JSON.stringify(moved)).toString("base64url")}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

class Person {
  readonly session: Session;
  readonly password = randomBytes(12).toString("base64url");
  id = 0;

  constructor(
    baseUrl: string,
    readonly username: string,
    readonly email: string,
  ) {
    this.session = new Session(baseUrl);
  }

  get api() {
    return this.session.api;
  }
}

class Story {
  private readonly anonymous: Session;
  private readonly ann: Person;
  private readonly ben: Person;
  private readonly cat: Person;
  private readonly firstDate = isoDate(30);
  private readonly secondDate = isoDate(31);
  private calendarId = 0;
  private dayIds: [number, number] = [0, 0];

  constructor(
    baseUrl: string,
    private readonly jwtKey: string | undefined,
  ) {
    const run = randomBytes(3).toString("hex"); // fresh names: the story also runs against a database in use
    this.anonymous = new Session(baseUrl);
    // Ann registers without an email address: nothing of the story may need one.
    this.ann = new Person(baseUrl, `ann_${run}`, "");
    this.ben = new Person(baseUrl, `ben_${run}`, `ben_${run}@example.com`);
    this.cat = new Person(baseUrl, `cat_${run}`, `cat_${run}@example.com`);
  }

  steps(): [string, () => Promise<void>][] {
    return [
      ["register (one without an email address)", () => this.register()],
      ["log in", () => this.logIn()],
      ["nothing needs a confirmed address", () => this.unconfirmed()],
      ["refresh rotates the token", () => this.refreshRotates()],
      ["befriend (add, accept)", () => this.befriend()],
      ["create a calendar with days", () => this.createCalendar()],
      ["invite two friends", () => this.invite()],
      ["one accepts, one stays pending", () => this.answer()],
      ["add slots: one, an array, a whole day", () => this.addSlots()],
      ["a write sent again with its Idempotency-Key", () => this.resend()],
      ["best meeting times", () => this.suggestions()],
      ["the availability grid", () => this.availability()],
      ["finalize", () => this.finalize()],
      ["download the iCalendar file", () => this.ics()],
      ["a 401 is refreshed once, for two calls at once", () => this.expiredAccess()],
      ["a 429 waits Retry-After", () => this.throttled()],
      ["log out", () => this.logOut()],
    ];
  }

  private async register(): Promise<void> {
    for (const person of [this.ann, this.ben, this.cat]) {
      const sent = { username: person.username, password: person.password, password2: person.password };
      const user = await body(
        this.anonymous.api.POST("/auth/register/", { body: person.email ? { ...sent, email: person.email } : sent }),
        201,
        `register ${person.username}`,
      );
      same([user.username, user.email ?? ""], [person.username, person.email], "registered as");
      person.id = user.id;
    }
    const taken = await refusal(
      this.anonymous.api.POST("/auth/register/", {
        body: { username: this.ann.username.toUpperCase(), password: this.ann.password, password2: this.ann.password },
      }),
      400,
      "a taken username",
    );
    check(typeof taken === "object" && "username" in taken, `a taken username is not named: ${JSON.stringify(taken)}`);
  }

  private async logIn(): Promise<void> {
    for (const person of [this.ann, this.ben, this.cat]) {
      const tokens = await body(
        person.api.POST("/auth/login/", { body: { username: person.username, password: person.password } }),
        200,
        `log in ${person.username}`,
      );
      check(tokens.access.split(".").length === 3 && tokens.refresh.split(".").length === 3, "the tokens are not JWTs");
      person.session.tokens = { access: tokens.access, refresh: tokens.refresh };
    }
    const wrong = await refusal(
      this.anonymous.api.POST("/auth/login/", { body: { username: this.ann.username, password: "not-it" } }),
      401,
      "a wrong password",
    );
    check(detailOf(wrong).includes("credentials"), `a wrong password answered ${detailOf(wrong)}`);
  }

  private async unconfirmed(): Promise<void> {
    for (const person of [this.ann, this.ben]) {
      const me = await body(person.api.GET("/auth/me/"), 200, "/auth/me/");
      same([me.id, me.username, me.email], [person.id, person.username, person.email], "/auth/me/");
      check(me.email_verified === false, `${person.username}'s address counts as confirmed`);
    }
    // Every step after this one runs with unconfirmed addresses, Ann's with none at all.
  }

  private async refreshRotates(): Promise<void> {
    const old = this.ann.session.tokens;
    check(old !== null, "ann is not signed in");
    await this.ann.session.refreshOnce();
    const now = this.ann.session.tokens;
    check(now !== null && now.refresh !== old.refresh && now.access !== old.access, "refresh kept the old pair");
    const stale = await refusal(
      this.anonymous.api.POST("/auth/refresh/", { body: { refresh: old.refresh } }),
      401,
      "the refresh token given up",
    );
    check(detailOf(stale).toLowerCase().includes("blacklisted"), `the old refresh token: ${detailOf(stale)}`);
    const me = await body(this.ann.api.GET("/auth/me/"), 200, "/auth/me/ with the new access token");
    same(me.username, this.ann.username, "signed in as");
  }

  private async befriend(): Promise<void> {
    for (const friend of [this.ben, this.cat]) {
      const asked = await body(
        this.ann.api.POST("/contacts/add/", { body: { username: friend.username } }),
        200,
        "a friend request",
      );
      same([asked.userA, asked.userB, asked.status], [this.ann.id, friend.id, 2], "the request");
      const incoming = await body(friend.api.GET("/contacts/incoming/"), 200, "incoming requests");
      same(
        incoming.results.map((user) => user.username),
        [this.ann.username],
        "incoming",
      );
      const accepted = await body(
        friend.api.POST("/contacts/accept/", { body: { username: this.ann.username } }),
        200,
        "accept",
      );
      same(accepted.status, 1, "an accepted request's status");
    }
    const friends = await body(this.ann.api.GET("/contacts/friends/"), 200, "ann's friends");
    same(friends.results.map((user) => user.username).sort(), [this.ben.username, this.cat.username].sort(), "friends");
    same([friends.next, friends.previous], [null, null], "one page of friends");
  }

  private async createCalendar(): Promise<void> {
    const calendar = await body(
      this.ann.api.POST("/calendars/", {
        body: {
          title: "Kickoff",
          description: "One hour, either day.",
          timezone: "europe/berlin", // any letter case; answered in the canonical one
          days: [
            { date: this.firstDate, ranking: 1, timeslots: [{ start_time: "09:00", end_time: "12:00" }] },
            { date: this.secondDate, ranking: 2 },
          ],
        },
      }),
      201,
      "create a calendar",
    );
    same(calendar.timezone, "Europe/Berlin", "the time zone");
    const [first, second] = calendar.days;
    check(first !== undefined && second !== undefined && calendar.days.length === 2, "two days answered");
    same([first.date, first.ranking, second.date, second.ranking], [this.firstDate, 1, this.secondDate, 2], "days");
    // `days[].id` is a number in the answer's type: no `!`, no cast, no check for a missing id.
    this.calendarId = calendar.id;
    this.dayIds = [first.id, second.id];
    same(
      (first.timeslots ?? []).map((slot) => [slot.owner_username, slot.start_time, slot.end_time, slot.preference]),
      [[this.ann.username, "09:00:00", "12:00:00", "yes"]],
      "ann's initial slot",
    );
  }

  private async invite(): Promise<void> {
    const path = { calendar_id: this.calendarId };
    for (const friend of [this.ben, this.cat]) {
      const invitation = await body(
        this.ann.api.POST("/calendars/{calendar_id}/invitations/", {
          params: { path },
          body: { invitee_username: friend.username },
        }),
        201,
        "invite",
      );
      same(
        [invitation.status, invitation.inviter_username, invitation.invitee_username],
        ["pending", this.ann.username, friend.username],
        "the invitation",
      );
    }
    await refusal(
      this.ann.api.POST("/calendars/{calendar_id}/invitations/", {
        params: { path },
        body: { invitee_username: this.ben.username },
      }),
      409,
      "inviting twice",
    );
  }

  private async answer(): Promise<void> {
    const inbox = await body(
      this.ben.api.GET("/invitations/", { params: { query: { status: "pending" } } }),
      200,
      "ben's inbox",
    );
    same(
      inbox.results.map((invitation) => [invitation.calendar_id, invitation.calendar_title]),
      [[this.calendarId, "Kickoff"]],
      "ben's pending invitations",
    );
    const [mine] = inbox.results;
    check(mine !== undefined, "no invitation in the inbox");
    await done(
      this.ben.api.PUT("/calendars/{calendar_id}/invitations/{id}/", {
        params: { path: { calendar_id: this.calendarId, id: mine.id } },
        body: { status: "accepted" },
      }),
      204,
      "ben accepts",
    );
    const calendar = await body(
      this.ben.api.GET("/calendars/{id}/", { params: { path: { id: this.calendarId } } }),
      200,
      "the calendar as ben sees it",
    );
    same(calendar.participants, [this.ben.id], "participants");
  }

  private async addSlots(): Promise<void> {
    const [first, second] = this.dayIds;
    const onFirst = { params: { path: { calendar_id: this.calendarId, day_id: first } } };
    const onSecond = { params: { path: { calendar_id: this.calendarId, day_id: second } } };
    // One slot: answered as one slot.
    const one = await body(
      this.ben.api.POST("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        ...onFirst,
        body: { start_time: "10:00", end_time: "11:30" },
      }),
      201,
      "one slot",
    );
    check(!Array.isArray(one), "one slot was answered as an array");
    same([one.owner_username, one.start_time, one.preference], [this.ben.username, "10:00:00", "yes"], "ben's slot");
    // An array: all or nothing, answered as an array in the order sent.
    const several = await body(
      this.ann.api.POST("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        ...onSecond,
        body: [
          { start_time: "14:00", end_time: "15:00" },
          { start_time: "15:00", end_time: "16:00", preference: "if_need_be" },
        ],
      }),
      201,
      "an array of slots",
    );
    check(Array.isArray(several), "an array of slots was answered as one");
    same(
      several.map((slot) => [slot.start_time, slot.preference]),
      [
        ["14:00:00", "yes"],
        ["15:00:00", "if_need_be"],
      ],
      "ann's slots",
    );
    // A whole day at once: ben's second day is exactly this list afterwards.
    const day = await body(
      this.ben.api.PUT("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        ...onSecond,
        body: [{ start_time: "15:00", end_time: "16:00" }],
      }),
      200,
      "ben's whole day",
    );
    same(
      day.map((slot) => [slot.owner_username, slot.start_time, slot.end_time]),
      [[this.ben.username, "15:00:00", "16:00:00"]],
      "ben's day",
    );
    const bad = await refusal(
      this.ben.api.PUT("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        ...onSecond,
        body: [
          { start_time: "09:00", end_time: "10:00" },
          { start_time: "12:00", end_time: "11:00" },
        ],
      }),
      400,
      "a day whose second slot ends before it starts",
    );
    check(typeof bad === "object" && "1" in bad, `the error is not keyed by the item's index: ${JSON.stringify(bad)}`);
    // Cat has not answered her invitation: not a member yet.
    await refusal(
      this.cat.api.POST("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        ...onFirst,
        body: { start_time: "10:00", end_time: "11:00" },
      }),
      403,
      "a pending invitee's slot",
    );
  }

  private async resend(): Promise<void> {
    // The key is a typed header parameter of every write; the transport keeps the caller's.
    const key = randomUUID();
    const send = () =>
      this.ann.api.POST("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        params: { path: { calendar_id: this.calendarId, day_id: this.dayIds[1] }, header: { "Idempotency-Key": key } },
        body: { start_time: "18:00", end_time: "19:00" },
      });
    const first = await send();
    const again = await send(); // as after a lost answer
    check(first.response.status === 201 && again.response.status === 201, "the write was refused");
    same(again.response.headers.get("Idempotent-Replayed"), "true", "Idempotent-Replayed");
    same(again.data, first.data, "the replayed answer");
    const listed = await body(
      this.ann.api.GET("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        params: { path: { calendar_id: this.calendarId, day_id: this.dayIds[1] } },
      }),
      200,
      "the second day's slots",
    );
    same(listed.results.filter((slot) => slot.start_time === "18:00:00").length, 1, "slots at 18:00");
  }

  private async suggestions(): Promise<void> {
    const answer = await body(
      this.ben.api.GET("/calendars/{id}/suggestions/", {
        params: { path: { id: this.calendarId }, query: { duration: 60 } },
      }),
      200,
      "suggestions",
    );
    check(answer.reason === null, `no suggestion: ${JSON.stringify(answer.reason)}`);
    const [top, runnerUp] = answer.suggestions;
    check(top !== undefined && runnerUp !== undefined, "fewer than two suggestions");
    same([top.date, top.start_time, top.end_time], [this.firstDate, "10:00:00", "11:00:00"], "the top window");
    same(top.available.slice().sort(), [this.ann.username, this.ben.username].sort(), "available");
    same([top.missing, top.pending, top.if_need_be], [[], [this.cat.username], []], "missing, pending, if need be");
    same([top.score.yes_count, top.score.participant_total, top.score.day_ranking], [2, 3, 1], "the score");
    check(top.starts_at.startsWith(`${this.firstDate}T10:00:00+`), `starts_at is ${top.starts_at}`);
    same([runnerUp.date, runnerUp.start_time], [this.secondDate, "15:00:00"], "the second window");
    same(runnerUp.if_need_be, [this.ann.username], "the second window's if need be");
  }

  private async availability(): Promise<void> {
    const grid = await body(
      this.cat.api.GET("/calendars/{id}/availability/", { params: { path: { id: this.calendarId } } }),
      200,
      "the availability grid (a pending invitee reads it)",
    );
    same(grid.members, [this.ann.username, this.ben.username].sort(), "members");
    same(
      grid.days.map((day) => [day.day, day.date]),
      [
        [this.dayIds[0], this.firstDate],
        [this.dayIds[1], this.secondDate],
      ],
      "the grid's days",
    );
    const [first, second] = grid.days;
    check(first !== undefined && second !== undefined, "two days in the grid");
    same(
      first.intervals.map((interval) => [interval.start_time, interval.end_time, interval.yes, interval.count]),
      [
        ["09:00:00", "10:00:00", [this.ann.username], 1],
        ["10:00:00", "11:30:00", [this.ann.username, this.ben.username].sort(), 2],
        ["11:30:00", "12:00:00", [this.ann.username], 1],
      ],
      "the first day",
    );
    same(
      second.intervals.map((interval) => [interval.start_time, interval.yes, interval.if_need_be]),
      [
        ["14:00:00", [this.ann.username], []],
        ["15:00:00", [this.ben.username], [this.ann.username]],
        ["18:00:00", [this.ann.username], []],
      ],
      "the second day",
    );
  }

  private async finalize(): Promise<void> {
    const meeting = { date: this.firstDate, start_time: "10:00", end_time: "11:00" };
    const path = { id: this.calendarId };
    await refusal(this.ben.api.POST("/calendars/{id}/finalize/", { params: { path }, body: meeting }), 403, "ben");
    const fixed = await body(
      this.ann.api.POST("/calendars/{id}/finalize/", { params: { path }, body: meeting }),
      200,
      "finalize",
    );
    check(fixed.finalized !== null, "the answer shows no finalized meeting");
    same(
      [fixed.finalized.date, fixed.finalized.start_time, fixed.finalized.end_time],
      [this.firstDate, "10:00:00", "11:00:00"],
      "the meeting",
    );
    const later = { date: this.firstDate, start_time: "10:30", end_time: "11:30" };
    await refusal(this.ann.api.POST("/calendars/{id}/finalize/", { params: { path }, body: later }), 409, "twice");
    await refusal(
      this.ben.api.PUT("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
        params: { path: { calendar_id: this.calendarId, day_id: this.dayIds[0] } },
        body: [],
      }),
      409,
      "a whole-day save after finalize",
    );
  }

  private async ics(): Promise<void> {
    const { data, response } = await this.ben.api.GET("/calendars/{id}/ics/", {
      params: { path: { id: this.calendarId } },
      headers: { Accept: "text/calendar" },
      parseAs: "text",
    });
    check(response.status === 200 && data !== undefined, `the .ics answered ${response.status}`);
    check((response.headers.get("content-type") ?? "").startsWith("text/calendar"), "not text/calendar");
    check((response.headers.get("content-disposition") ?? "").includes("attachment"), "not offered as a download");
    const start = `DTSTART;TZID=Europe/Berlin:${this.firstDate.replaceAll("-", "")}T100000`;
    check(data.startsWith("BEGIN:VCALENDAR") && data.includes(start), `the document lacks ${start}`);
    check(data.includes("SUMMARY:Kickoff") && data.includes(this.ben.username), "the event lacks title or attendee");
  }

  private async expiredAccess(): Promise<void> {
    const session = this.ben.session;
    const before = session.tokens;
    check(before !== null, "ben is not signed in");
    if (this.jwtKey === undefined) {
      throw new StoryFailure("STORY_JWT_SIGNING_KEY is not set: cannot make an expired access token");
    }
    session.tokens = { ...before, access: expired(before.access, this.jwtKey) };
    const refreshed = session.count("refreshed");
    const retried = session.count("retried-after-401");
    // Two calls at once: both meet the 401, one refresh serves both, both are retried once.
    const [me, calendar] = await Promise.all([
      body(session.api.GET("/auth/me/"), 200, "/auth/me/ after a refresh"),
      body(session.api.GET("/calendars/{id}/", { params: { path: { id: this.calendarId } } }), 200, "the calendar"),
    ]);
    same([me.username, calendar.id], [this.ben.username, this.calendarId], "the retried answers");
    same(session.count("refreshed") - refreshed, 1, "refreshes");
    same(session.count("retried-after-401") - retried, 2, "retries");
    const now = session.tokens;
    check(now !== null && now.refresh !== before.refresh, "the rotated refresh token was not kept");
    await refusal(
      this.anonymous.api.POST("/auth/refresh/", { body: { refresh: before.refresh } }),
      401,
      "the refresh token given up",
    );
  }

  private async throttled(): Promise<void> {
    // Logins are throttled per address (AUTH_THROTTLE_RATE, a few a second in this run): log in until
    // the server answers 429, which the transport waits out before it tries again.
    const session = this.cat.session;
    const waited = session.count("waited-after-429");
    for (let attempt = 0; attempt < 30 && session.count("waited-after-429") === waited; attempt += 1) {
      const tokens = await body(
        session.api.POST("/auth/login/", { body: { username: this.cat.username, password: this.cat.password } }),
        200,
        "a login in a burst",
      );
      session.tokens = { access: tokens.access, refresh: tokens.refresh };
    }
    const waits = session.events.slice(waited).flatMap((event) => (event.kind === "waited-after-429" ? [event] : []));
    check(waits.length > 0, "30 logins in a row were never throttled: is AUTH_THROTTLE_RATE a few a second?");
    check(
      waits.every((event) => event.seconds >= 1 && event.path === "/auth/login/"),
      `waits: ${JSON.stringify(waits)}`,
    );
  }

  private async logOut(): Promise<void> {
    const tokens = this.ann.session.tokens;
    check(tokens !== null, "ann is not signed in");
    await done(this.anonymous.api.POST("/auth/logout/", { body: { refresh: tokens.refresh } }), 204, "log out");
    await refusal(
      this.anonymous.api.POST("/auth/refresh/", { body: { refresh: tokens.refresh } }),
      401,
      "a logged-out refresh token",
    );
    // The access token still works until it expires; a refresh with the revoked token signs the session out.
    this.ann.session.tokens = { ...tokens, access: "revoked.access.token" };
    let signedOut = false;
    try {
      await this.ann.api.GET("/auth/me/");
    } catch (error) {
      signedOut = error instanceof SignedOut;
    }
    check(signedOut && this.ann.session.tokens === null, "a refused refresh did not sign the session out");
  }
}

async function main(argv: string[]): Promise<number> {
  const baseUrl = argv[2];
  if (baseUrl === undefined) {
    console.error("usage: node build/story.js http://127.0.0.1:8000");
    return 2;
  }
  const story = new Story(baseUrl, process.env["STORY_JWT_SIGNING_KEY"]);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const [name, step] of story.steps()) {
    if (failed > 0) {
      skipped += 1;
      console.log(`  skip  ${name}`);
      continue;
    }
    const started = performance.now();
    try {
      await step();
      passed += 1;
      console.log(`  ok    ${name} (${Math.round(performance.now() - started)} ms)`);
    } catch (error) {
      failed += 1;
      if (error instanceof StoryFailure) {
        console.log(`  FAIL  ${name}: ${error.message}`);
      } else {
        console.log(`  FAIL  ${name}: crashed`);
        console.error(error);
      }
    }
  }
  console.log(`client-ts: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv);
