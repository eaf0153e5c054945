// A minimal single-page client of the OneOnOne API on another origin: JWT sign-in,
// tokens kept in sessionStorage, one shared refresh on 401 (refresh tokens rotate),
// and the calendar list. Plain browser JavaScript, no build step.
"use strict";

const API = new URL(new URLSearchParams(location.search).get("api") || "http://127.0.0.1:8000").origin;
const TOKENS_KEY = "oneonone.tokens";

const $ = (id) => document.getElementById(id);
let refreshCount = 0;

class SignedOut extends Error {}

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY));
  } catch {
    return null;
  }
}

function saveTokens(pair) {
  if (pair) sessionStorage.setItem(TOKENS_KEY, JSON.stringify({ access: pair.access, refresh: pair.refresh }));
  else sessionStorage.removeItem(TOKENS_KEY);
}

function postJson(path, body) {
  return fetch(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
}

// One refresh at a time: the server revokes a refresh token once it is used, so two
// parallel refreshes with the same token would make the second one fail (401).
let refreshing = null;

function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const tokens = loadTokens();
      if (!tokens || !tokens.refresh) throw new SignedOut("Signed out.");
      const response = await postJson("/auth/refresh/", { refresh: tokens.refresh });
      if (!response.ok) {
        saveTokens(null);
        throw new SignedOut("Your session has expired; sign in again.");
      }
      saveTokens(await response.json()); // a new access token and a new refresh token
      refreshCount += 1;
      $("refresh-count").textContent = String(refreshCount);
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// A write carries an Idempotency-Key made once for it (or the caller's), so sending it again, after a
// refresh or a lost answer, is answered the first answer instead of being done twice (docs/frontend.md).
const WRITES = ["POST", "PUT", "PATCH", "DELETE"];

// fetch with the access token; on 401, refresh once and retry once, with the same key.
async function api(path, options = {}) {
  const write = WRITES.includes((options.method || "GET").toUpperCase());
  const key = write ? { "Idempotency-Key": crypto.randomUUID() } : {};
  const send = (access) =>
    fetch(API + path, {
      ...options,
      headers: {
        Accept: "application/json",
        ...(options.body ? { "Content-Type": "application/json" } : {}),
        ...key,
        ...options.headers,
        Authorization: `Bearer ${access}`,
      },
    });
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

function showStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function showSignedIn(signedIn) {
  $("sign-in").hidden = signedIn;
  $("signed-in-bar").hidden = !signedIn;
  $("calendar-section").hidden = !signedIn;
  if (!signedIn) $("calendars").replaceChildren();
}

async function errorText(response) {
  let text;
  try {
    const body = await response.json();
    text = body.detail
      ? body.detail
      : Object.entries(body)
          .map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`)
          .join("; ");
  } catch {
    text = `HTTP ${response.status}`;
  }
  // Throttled (429): readable from another origin only because the API exposes Retry-After.
  const retryAfter = response.headers.get("Retry-After");
  return retryAfter ? `${text} (retry in ${retryAfter} s)` : text;
}

async function allCalendars() {
  const calendars = [];
  let path = "/calendars/?page_size=100";
  while (path) {
    const response = await api(path);
    if (!response.ok) throw new Error(`Could not list calendars: ${await errorText(response)}`);
    const page = await response.json();
    calendars.push(...page.results);
    path = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
  }
  return calendars;
}

function renderCalendars(calendars) {
  $("calendar-count").textContent = String(calendars.length);
  $("calendars").replaceChildren(
    ...calendars.map((calendar) => {
      const item = document.createElement("li");
      item.dataset.id = String(calendar.id);
      const title = document.createElement("strong");
      title.className = "title";
      title.textContent = calendar.title;
      const meta = document.createElement("span");
      meta.className = "meta";
      const days = calendar.days.length;
      meta.textContent = ` by ${calendar.creator_username}, ${days} day${days === 1 ? "" : "s"}`;
      item.append(title, meta);
      return item;
    }),
  );
}

async function load() {
  try {
    // Two calls at once: after the access token expires both answer 401 and share one refresh.
    const [me, calendars] = await Promise.all([api("/auth/me/"), allCalendars()]);
    if (!me.ok) throw new Error(`Could not load the current user: ${await errorText(me)}`);
    const user = await me.json();
    showSignedIn(true);
    renderCalendars(calendars);
    showStatus(`Signed in as ${user.username}.`);
  } catch (error) {
    handleError(error);
  }
}

function handleError(error) {
  if (error instanceof SignedOut) {
    showSignedIn(false);
    showStatus(error.message, true);
  } else if (error instanceof TypeError) {
    // fetch rejects with a TypeError when the network fails or CORS refuses the response.
    showStatus(`Cannot reach the API at ${API} (network error, or this origin is not allowed by CORS).`, true);
  } else {
    showStatus(error.message, true);
  }
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  showStatus("Signing in...");
  try {
    const response = await postJson("/auth/login/", { username: $("username").value, password: $("password").value });
    if (!response.ok) {
      showStatus(`Sign-in failed: ${await errorText(response)}`, true);
      return;
    }
    saveTokens(await response.json());
    $("password").value = "";
    await load();
  } catch (error) {
    handleError(error);
  }
});

$("reload").addEventListener("click", () => load());

$("sign-out").addEventListener("click", async () => {
  const tokens = loadTokens();
  saveTokens(null);
  showSignedIn(false);
  showStatus("Signed out.");
  if (tokens && tokens.refresh) {
    try {
      await postJson("/auth/logout/", { refresh: tokens.refresh }); // revoke the refresh token
    } catch {
      // Signed out locally either way; the access token expires on its own.
    }
  }
});

$("api-base").textContent = API;
$("page-origin").textContent = location.origin;
if (loadTokens()) load();
