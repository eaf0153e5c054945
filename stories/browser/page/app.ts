// A small single-page client of the OneOnOne API on another origin: JWT sign-in, tokens kept in
// sessionStorage, one shared refresh on 401 (refresh tokens rotate), the calendar list, and a
// calendar's days: paint my availability on a half-hour grid and save the whole day at once,
// beside everyone's availability as a heat map.
//
// Every call goes through openapi-fetch with the types generated from the API's /schema/
// (../generated/api.d.ts, `npm run generate`): a request or answer that drifts from the schema
// stops `npm run check` (tsc --strict). esbuild bundles this file into app.js (`npm run build`).
import createClient, { type MethodResponse } from "openapi-fetch";

import type { paths } from "../generated/api";

const API = new URL(new URLSearchParams(location.search).get("api") || "http://127.0.0.1:8000").origin;
const TOKENS_KEY = "oneonone.tokens";
// These take no access token: their 401 means wrong credentials, not an expired token.
const WITHOUT_TOKEN = new Set(["/auth/login/", "/auth/refresh/", "/auth/logout/", "/auth/register/"]);
const CELL_MINUTES = 30;
const CELLS = (24 * 60) / CELL_MINUTES - 1; // 00:00 to 23:30: a slot ends by midnight, and 24:00 is no time

type Tokens = { access: string; refresh: string };

class SignedOut extends Error {}

function element<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`#${id} is missing from the page`);
  return found;
}

const $ = {
  status: element("status", HTMLParagraphElement),
  signIn: element("sign-in", HTMLFormElement),
  username: element("username", HTMLInputElement),
  password: element("password", HTMLInputElement),
  signedInBar: element("signed-in-bar", HTMLDivElement),
  reload: element("reload", HTMLButtonElement),
  signOut: element("sign-out", HTMLButtonElement),
  refreshCount: element("refresh-count", HTMLSpanElement),
  calendarSection: element("calendar-section", HTMLElement),
  calendarCount: element("calendar-count", HTMLSpanElement),
  calendars: element("calendars", HTMLUListElement),
  view: element("calendar-view", HTMLElement),
  viewTitle: element("view-title", HTMLHeadingElement),
  daySelect: element("day-select", HTMLSelectElement),
  brushes: {
    yes: element("brush-yes", HTMLButtonElement),
    if_need_be: element("brush-if-need-be", HTMLButtonElement),
    clear: element("brush-clear", HTMLButtonElement),
  },
  saveDay: element("save-day", HTMLButtonElement),
  gridStatus: element("grid-status", HTMLParagraphElement),
  grid: element("grid", HTMLDivElement),
  heatmap: element("heatmap", HTMLDivElement),
};

// --- tokens and the transport ------------------------------------------------------------

function loadTokens(): Tokens | null {
  let stored: unknown;
  try {
    stored = JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? "null");
  } catch {
    return null;
  }
  if (
    typeof stored === "object" &&
    stored !== null &&
    "access" in stored &&
    "refresh" in stored &&
    typeof stored.access === "string" &&
    typeof stored.refresh === "string"
  ) {
    return { access: stored.access, refresh: stored.refresh };
  }
  return null;
}

function saveTokens(pair: Tokens | null): void {
  if (pair) sessionStorage.setItem(TOKENS_KEY, JSON.stringify({ access: pair.access, refresh: pair.refresh }));
  else sessionStorage.removeItem(TOKENS_KEY);
}

// A write carries an Idempotency-Key made once for it (or the caller's), so sending it again, after a
// refresh or a lost answer, is answered the first answer instead of being done twice (docs/frontend.md).
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// fetch with the access token; on 401, refresh once and retry once, with the same key. The body is read
// once and sent as text each time (not as the Request's stream, which would go out as a streamed upload).
async function transport(request: Request): Promise<Response> {
  const body = request.body === null ? null : await request.text();
  const signedIn = !WITHOUT_TOKEN.has(new URL(request.url).pathname);
  const write = signedIn && WRITES.has(request.method);
  const key = write ? (request.headers.get("Idempotency-Key") ?? crypto.randomUUID()) : null;
  const send = (access: string | null) => {
    const headers = new Headers(request.headers);
    if (key !== null) headers.set("Idempotency-Key", key);
    if (access !== null) headers.set("Authorization", `Bearer ${access}`);
    return fetch(request.url, { method: request.method, headers, body });
  };
  if (!signedIn) return send(null);
  const tokens = loadTokens();
  if (!tokens) throw new SignedOut("Signed out.");
  let response = await send(tokens.access);
  if (response.status === 401) {
    // Another call may have refreshed meanwhile: only refresh if our token is still the stored one.
    const now = loadTokens();
    if (!now || now.access === tokens.access) await refreshTokens();
    const fresh = loadTokens();
    if (!fresh) throw new SignedOut("Your session has expired; sign in again.");
    response = await send(fresh.access);
  }
  return response;
}

const api = createClient<paths>({ baseUrl: API, headers: { Accept: "application/json" }, fetch: transport });

type Api = typeof api;
type Calendar = MethodResponse<Api, "get", "/calendars/{id}/">;
type ListedCalendar = MethodResponse<Api, "get", "/calendars/">["results"][number];
type Slot = MethodResponse<Api, "put", "/calendars/{calendar_id}/day/{day_id}/timeslot/">[number];
type Preference = NonNullable<Slot["preference"]>;
type Availability = MethodResponse<Api, "get", "/calendars/{id}/availability/">;

// One refresh at a time: the server revokes a refresh token once it is used, so two
// parallel refreshes with the same token would make the second one fail (401).
let refreshing: Promise<void> | null = null;
let refreshCount = 0;

function refreshTokens(): Promise<void> {
  refreshing ??= (async () => {
    const tokens = loadTokens();
    if (!tokens) throw new SignedOut("Signed out.");
    const { data } = await api.POST("/auth/refresh/", { body: { refresh: tokens.refresh } });
    if (!data) {
      saveTokens(null);
      throw new SignedOut("Your session has expired; sign in again.");
    }
    saveTokens({ access: data.access, refresh: data.refresh }); // a new access token and a new refresh token
    refreshCount += 1;
    $.refreshCount.textContent = String(refreshCount);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// --- showing things --------------------------------------------------------------------------

function showStatus(text: string, isError = false): void {
  $.status.textContent = text;
  $.status.classList.toggle("error", isError);
}

function showGridStatus(text: string, isError = false): void {
  $.gridStatus.textContent = text;
  $.gridStatus.classList.toggle("error", isError);
}

function showSignedIn(signedIn: boolean): void {
  $.signIn.hidden = signedIn;
  $.signedInBar.hidden = !signedIn;
  $.calendarSection.hidden = !signedIn;
  if (!signedIn) {
    $.calendars.replaceChildren();
    closeCalendar();
  }
}

/** Every message in an error body (field errors nest: `{"1": {"end_time": ["..."]}}`). */
function messagesOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(messagesOf);
  return [];
}

function errorText(error: unknown, response: Response): string {
  let text: string;
  if (typeof error === "object" && error !== null && "detail" in error && typeof error.detail === "string") {
    text = error.detail;
  } else if (typeof error === "object" && error !== null) {
    text = Object.entries(error)
      .map(([field, messages]) => `${field}: ${messagesOf(messages).join(" ")}`)
      .join("; ");
  } else {
    text = `HTTP ${response.status}`;
  }
  // Throttled (429): readable from another origin only because the API exposes Retry-After.
  const retryAfter = response.headers.get("Retry-After");
  return retryAfter ? `${text} (retry in ${retryAfter} s)` : text;
}

function handleError(error: unknown): void {
  if (error instanceof SignedOut) {
    showSignedIn(false);
    showStatus(error.message, true);
  } else if (error instanceof TypeError) {
    // fetch rejects with a TypeError when the network fails or CORS refuses the response.
    showStatus(`Cannot reach the API at ${API} (network error, or this origin is not allowed by CORS).`, true);
  } else if (error instanceof Error) {
    showStatus(error.message, true);
  } else {
    showStatus(String(error), true);
  }
}

// --- the calendar list -----------------------------------------------------------------------

async function allCalendars(): Promise<ListedCalendar[]> {
  const calendars: ListedCalendar[] = [];
  for (let page = 1; ; page += 1) {
    const query = page === 1 ? { page_size: 100 } : { page_size: 100, page };
    const { data, error, response } = await api.GET("/calendars/", { params: { query } });
    if (!data) throw new Error(`Could not list calendars: ${errorText(error, response)}`);
    calendars.push(...data.results);
    if (data.next === null) return calendars;
  }
}

function renderCalendars(calendars: ListedCalendar[]): void {
  $.calendarCount.textContent = String(calendars.length);
  $.calendars.replaceChildren(
    ...calendars.map((calendar) => {
      const item = document.createElement("li");
      item.dataset["id"] = String(calendar.id);
      const title = document.createElement("button");
      title.type = "button";
      title.className = "title";
      title.textContent = calendar.title;
      title.addEventListener("click", () => {
        openCalendar(calendar.id, null).catch(handleError);
      });
      const meta = document.createElement("span");
      meta.className = "meta";
      const days = calendar.days.length;
      meta.textContent = ` by ${calendar.creator_username}, ${days} day${days === 1 ? "" : "s"}`;
      item.append(title, meta);
      return item;
    }),
  );
}

let me: string | null = null;

async function load(): Promise<void> {
  try {
    // Two calls at once: after the access token expires both answer 401 and share one refresh.
    const [mine, calendars] = await Promise.all([api.GET("/auth/me/"), allCalendars()]);
    if (!mine.data) throw new Error(`Could not load the current user: ${errorText(mine.error, mine.response)}`);
    me = mine.data.username;
    showSignedIn(true);
    renderCalendars(calendars);
    showStatus(`Signed in as ${me}.`);
    const opened = openedInAddress();
    if (opened) await openCalendar(opened.calendar, opened.day);
  } catch (error) {
    handleError(error);
  }
}

// --- one calendar: the day grid and the heat map ------------------------------------------------

type View = { calendar: Calendar; day: Calendar["days"][number]; cells: (Preference | null)[] };
let view: View | null = null;
let brush: Preference | null = "yes";

function minutesOf(clock: string): number {
  const [hours = "0", minutes = "0"] = clock.split(":");
  return Number(hours) * 60 + Number(minutes);
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** `#calendar=ID&day=ID` in the address keeps the open calendar and day across a reload. */
function openedInAddress(): { calendar: number; day: number | null } | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const calendar = Number(hash.get("calendar"));
  if (!Number.isInteger(calendar) || calendar <= 0) return null;
  const day = Number(hash.get("day"));
  return { calendar, day: Number.isInteger(day) && day > 0 ? day : null };
}

async function openCalendar(id: number, dayId: number | null): Promise<void> {
  const { data, error, response } = await api.GET("/calendars/{id}/", { params: { path: { id } } });
  if (!data) throw new Error(`Could not open the calendar: ${errorText(error, response)}`);
  const day = data.days.find((candidate) => candidate.id === dayId) ?? data.days[0];
  if (!day) throw new Error("The calendar has no days.");
  $.viewTitle.textContent = data.title;
  $.daySelect.replaceChildren(
    ...data.days.map((candidate) => {
      const option = document.createElement("option");
      option.value = String(candidate.id);
      option.textContent = `${candidate.date} (ranking ${candidate.ranking})`;
      return option;
    }),
  );
  $.daySelect.value = String(day.id);
  $.view.hidden = false;
  showDay(data, day);
  await loadHeatmap(data.id);
}

function closeCalendar(): void {
  view = null;
  $.view.hidden = true;
  $.grid.replaceChildren();
  $.heatmap.replaceChildren();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function showDay(calendar: Calendar, day: Calendar["days"][number]): void {
  history.replaceState(null, "", `${location.pathname}${location.search}#calendar=${calendar.id}&day=${day.id}`);
  const mine = (day.timeslots ?? []).filter((slot) => slot.owner_username === me);
  view = { calendar, day, cells: paintedFrom(mine) };
  const offGrid = mine.some(
    (slot) => minutesOf(slot.start_time) % CELL_MINUTES !== 0 || minutesOf(slot.end_time) % CELL_MINUTES !== 0,
  );
  showGridStatus(offGrid ? "Some of your times are not on the half hour: saving rounds them to the grid." : "");
  renderGrid();
}

/** The grid's cells painted from my slots: a cell takes the preference of a slot that overlaps it. */
function paintedFrom(slots: Pick<Slot, "start_time" | "end_time" | "preference">[]): (Preference | null)[] {
  return Array.from({ length: CELLS }, (_, index) => {
    const start = index * CELL_MINUTES;
    const slot = slots.find((s) => minutesOf(s.start_time) < start + CELL_MINUTES && start < minutesOf(s.end_time));
    return slot ? (slot.preference ?? "yes") : null;
  });
}

function renderGrid(): void {
  if (!view) return;
  const cells = view.cells;
  $.grid.replaceChildren(
    ...cells.map((preference, index) => {
      const cell = document.createElement("button");
      cell.type = "button";
      cell.className = "cell";
      cell.dataset["index"] = String(index);
      cell.dataset["start"] = clock(index * CELL_MINUTES);
      cell.dataset["preference"] = preference ?? "";
      cell.textContent = clock(index * CELL_MINUTES);
      cell.title = `${clock(index * CELL_MINUTES)}–${clock((index + 1) * CELL_MINUTES)}`;
      return cell;
    }),
  );
  const morning = $.grid.querySelector('[data-start="08:00"]');
  if (morning instanceof HTMLElement) $.grid.scrollTop = morning.offsetTop - $.grid.offsetTop;
}

function paint(index: number): void {
  if (!view || index < 0 || index >= view.cells.length) return;
  view.cells[index] = brush;
  const cell = $.grid.querySelector(`[data-index="${index}"]`);
  if (cell instanceof HTMLElement) cell.dataset["preference"] = brush ?? "";
}

function cellIndex(target: EventTarget | null): number | null {
  const cell = target instanceof Element ? target.closest("button.cell") : null;
  if (!(cell instanceof HTMLElement)) return null;
  const index = Number(cell.dataset["index"]);
  return Number.isInteger(index) ? index : null;
}

// Click-and-drag painting: every cell between the last one painted and the one under the pointer,
// so a fast drag leaves no gaps. Touch captures the pointer, so the cell is found by position.
let dragFrom: number | null = null;

$.grid.addEventListener("pointerdown", (event) => {
  const index = cellIndex(event.target);
  if (index === null) return;
  event.preventDefault();
  if (event.target instanceof Element && event.target.hasPointerCapture(event.pointerId)) {
    event.target.releasePointerCapture(event.pointerId);
  }
  dragFrom = index;
  paint(index);
});
$.grid.addEventListener("pointermove", (event) => {
  if (dragFrom === null) return;
  const index = cellIndex(document.elementFromPoint(event.clientX, event.clientY));
  if (index === null) return;
  const step = index >= dragFrom ? 1 : -1;
  for (let i = dragFrom; i !== index + step; i += step) paint(i);
  dragFrom = index;
});
window.addEventListener("pointerup", () => {
  dragFrom = null;
});
$.grid.addEventListener("click", (event) => {
  // Keyboard (Enter or Space on a cell): no pointer events came first.
  if (event.detail !== 0) return;
  const index = cellIndex(event.target);
  if (index !== null) paint(index);
});

function chooseBrush(chosen: Preference | null): void {
  brush = chosen;
  $.brushes.yes.setAttribute("aria-pressed", String(chosen === "yes"));
  $.brushes.if_need_be.setAttribute("aria-pressed", String(chosen === "if_need_be"));
  $.brushes.clear.setAttribute("aria-pressed", String(chosen === null));
}

type Run = { start: number; end: number; preference: Preference };

/** Neighbouring cells with the same preference, merged: the slots to save. */
function runsOf(cells: (Preference | null)[]): Run[] {
  const runs: Run[] = [];
  cells.forEach((preference, index) => {
    if (preference === null) return;
    const start = index * CELL_MINUTES;
    const last = runs.at(-1);
    if (last && last.end === start && last.preference === preference) last.end = start + CELL_MINUTES;
    else runs.push({ start, end: start + CELL_MINUTES, preference });
  });
  return runs;
}

async function saveDay(): Promise<void> {
  if (!view) return;
  const { calendar, day } = view;
  const runs = runsOf(view.cells);
  showGridStatus("Saving...");
  // One PUT for the whole day: my slots on it become exactly these (an empty list clears the day).
  const { data, error, response } = await api.PUT("/calendars/{calendar_id}/day/{day_id}/timeslot/", {
    params: { path: { calendar_id: calendar.id, day_id: day.id } },
    body: runs.map((run) => ({ start_time: clock(run.start), end_time: clock(run.end), preference: run.preference })),
  });
  if (!data) {
    showGridStatus(`Not saved: ${response.status === 400 ? runErrors(error, runs) : errorText(error, response)}`, true);
    return;
  }
  // The answer is my slots on the day after the save: the calendar now holds them instead of the old ones.
  const others = (day.timeslots ?? []).filter((slot) => slot.owner_username !== me);
  const saved = { ...day, timeslots: [...others, ...data] };
  const updated = { ...calendar, days: calendar.days.map((d) => (d.id === day.id ? saved : d)) };
  view = { calendar: updated, day: saved, cells: paintedFrom(data) };
  renderGrid();
  showGridStatus(`Saved: ${data.length} slot${data.length === 1 ? "" : "s"}.`);
  await loadHeatmap(calendar.id);
}

/** A 400 for the day names items by their index in the body: each is one run of cells. */
function runErrors(error: unknown, runs: Run[]): string {
  if (typeof error !== "object" || error === null) return "invalid";
  return Object.entries(error)
    .map(([key, value]) => {
      const run = runs[Number(key)];
      const where = run ? `${clock(run.start)}–${clock(run.end)}` : key === "non_field_errors" ? "the day" : key;
      return `${where}: ${messagesOf(value).join(" ")}`;
    })
    .join("; ");
}

async function loadHeatmap(calendarId: number): Promise<void> {
  const { data, error, response } = await api.GET("/calendars/{id}/availability/", {
    params: { path: { id: calendarId } },
  });
  if (!data) {
    $.heatmap.replaceChildren(`Could not load the heat map: ${errorText(error, response)}`);
    return;
  }
  renderHeatmap(data);
}

/** One column per day, one block per interval: placed by its times, shaded by the share of members available. */
function renderHeatmap(grid: Availability): void {
  const members = Math.max(grid.members.length, 1);
  const intervals = grid.days.flatMap((day) => day.intervals);
  const starts = intervals.map((interval) => minutesOf(interval.start_time));
  const ends = intervals.map((interval) => minutesOf(interval.end_time));
  // The hours anyone is available, whole hours around them (08:00 to 18:00 while nobody is).
  const from = intervals.length ? Math.floor(Math.min(...starts) / 60) * 60 : 8 * 60;
  const to = intervals.length ? Math.ceil(Math.max(...ends) / 60) * 60 : 18 * 60;
  const percent = (minutes: number) => `${((minutes - from) / (to - from)) * 100}%`;
  $.heatmap.replaceChildren(
    ...grid.days.map((day) => {
      const column = document.createElement("div");
      column.className = "day-column";
      column.dataset["day"] = String(day.day);
      const header = document.createElement("div");
      header.className = "day-header";
      header.textContent = day.date;
      const track = document.createElement("div");
      track.className = "track";
      for (let hour = from; hour <= to; hour += 60) {
        const mark = document.createElement("span");
        mark.className = "hour";
        mark.style.top = percent(hour);
        mark.textContent = clock(hour);
        track.append(mark);
      }
      for (const interval of day.intervals) {
        const start = minutesOf(interval.start_time);
        const end = minutesOf(interval.end_time);
        const block = document.createElement("div");
        block.className = "interval";
        block.dataset["start"] = clock(start);
        block.dataset["end"] = clock(end);
        block.dataset["count"] = String(interval.count);
        block.dataset["yes"] = interval.yes.join(",");
        block.dataset["ifNeedBe"] = interval.if_need_be.join(",");
        block.style.top = percent(start);
        block.style.height = `calc(${percent(end)} - ${percent(start)})`;
        block.style.setProperty("--share", String(interval.count / members));
        block.title = [
          `${clock(start)}–${clock(end)}: ${interval.count} of ${grid.members.length}`,
          `yes: ${interval.yes.join(", ") || "nobody"}`,
          `if need be: ${interval.if_need_be.join(", ") || "nobody"}`,
        ].join("\n");
        // The "if need be" share of those available, hatched and lighter.
        const maybe = document.createElement("span");
        maybe.className = "if-need-be";
        maybe.style.width = `${(interval.if_need_be.length / Math.max(interval.count, 1)) * 100}%`;
        block.append(maybe);
        track.append(block);
      }
      column.append(header, track);
      return column;
    }),
  );
}

// --- wiring ----------------------------------------------------------------------------------

$.signIn.addEventListener("submit", async (event) => {
  event.preventDefault();
  showStatus("Signing in...");
  try {
    const { data, error, response } = await api.POST("/auth/login/", {
      body: { username: $.username.value, password: $.password.value },
    });
    if (!data) {
      showStatus(`Sign-in failed: ${errorText(error, response)}`, true);
      return;
    }
    saveTokens({ access: data.access, refresh: data.refresh });
    $.password.value = "";
    await load();
  } catch (error) {
    handleError(error);
  }
});

$.reload.addEventListener("click", () => load());

$.signOut.addEventListener("click", async () => {
  const tokens = loadTokens();
  saveTokens(null);
  showSignedIn(false);
  showStatus("Signed out.");
  if (tokens) {
    try {
      await api.POST("/auth/logout/", { body: { refresh: tokens.refresh } }); // revoke the refresh token
    } catch {
      // Signed out locally either way; the access token expires on its own.
    }
  }
});

$.daySelect.addEventListener("change", () => {
  if (!view) return;
  const chosen = view.calendar.days.find((day) => String(day.id) === $.daySelect.value);
  if (chosen) showDay(view.calendar, chosen);
});
$.brushes.yes.addEventListener("click", () => chooseBrush("yes"));
$.brushes.if_need_be.addEventListener("click", () => chooseBrush("if_need_be"));
$.brushes.clear.addEventListener("click", () => chooseBrush(null));
$.saveDay.addEventListener("click", () => {
  saveDay().catch(handleError);
});

element("api-base", HTMLElement).textContent = API;
element("page-origin", HTMLElement).textContent = location.origin;
chooseBrush("yes");
if (loadTokens()) load();
