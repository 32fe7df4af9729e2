// The login screen: without a key the tab shows only this; a wrong key says so (and, once the address is
// throttled, when to try again); logout forgets the key and closes the hub before anything else can ask.

import { apiKey, forgetKey, get, rememberKey, UNAUTHORIZED } from "./api.js";
import { disconnect } from "./hub.js";

// A message for the login screen that outlives the reload which clears every panel's data.
const NOTICE_STORAGE = "mt5p.loginNotice";
let retryTimer = null;

const signedIn = () => document.body.dataset.auth === "in";

function show(message) {
  document.body.dataset.auth = "out";
  document.getElementById("login-message").textContent = message || "";
  document.getElementById("login-key").focus();
}

// Why a key was not accepted, in words, or "" when it was.
async function check() {
  try {
    await get("/api/services");
    return "";
  } catch (e) {
    if (e.status === 401) return "Wrong key: the platform refused it.";
    if (e.status === 429) {
      holdOff(e.details.retry_after_s || 1);
      return `Too many failed attempts from this address: retry in ${e.details.retry_after_s} s.`;
    }
    return e.message;
  }
}

// The throttle's answer: the button stays disabled until its retry-after has passed.
function holdOff(seconds) {
  const button = document.querySelector("#login-form button[type=submit]");
  button.disabled = true;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { button.disabled = false; }, seconds * 1000);
}

// Forget the key and start again from a clean page: no panel keeps data, timers or a socket.
export function signOut(notice = "") {
  disconnect();
  forgetKey();
  if (notice) sessionStorage.setItem(NOTICE_STORAGE, notice);
  window.location.reload();
}

// Resolves once the tab holds a key the API accepts (at once when it already does).
export async function signIn() {
  window.addEventListener(UNAUTHORIZED, () => { if (signedIn()) signOut("The platform refused this tab's key: sign in again."); });
  document.getElementById("logout").addEventListener("click", () => signOut());
  const notice = sessionStorage.getItem(NOTICE_STORAGE) || "";
  sessionStorage.removeItem(NOTICE_STORAGE);
  const problem = apiKey() ? await check() : notice;
  if (apiKey() && !problem) {
    document.body.dataset.auth = "in";
    return;
  }
  forgetKey();
  show(problem);
  await new Promise((resolve) => {
    document.getElementById("login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = document.getElementById("login-key");
      document.getElementById("login-message").textContent = "";
      rememberKey(input.value.trim());
      const refused = await check();
      if (refused) { forgetKey(); show(refused); return; }
      input.value = "";
      document.body.dataset.auth = "in";
      resolve();
    });
  });
}
