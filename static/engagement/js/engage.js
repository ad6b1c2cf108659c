/* Storyloom engagement: tells our own server, anonymously, what a reader does with a
 * story (view, engaged read, read to the end, share, follow a link, a feeling).
 * Wire format and metrics: docs/metrics.md. No cookies, no third-party code, and
 * nothing at all for Do Not Track or Global Privacy Control. Keep it under 3 KB once
 * comments and indentation are gone (tests/syndication/test_engage_script.py). */
(() => {
  "use strict";
  const root = document.querySelector("[data-engage]");
  const nav = navigator;
  if (!root || nav.doNotTrack === "1" || window.doNotTrack === "1" || nav.globalPrivacyControl) return;

  const data = root.dataset;
  const story = +data.story;
  const KEY = "storyloom:landing";
  const params = new URLSearchParams(location.search);
  const ref = document.referrer;
  const isTag = (k) => k === "sh" || k === "nl" || k.startsWith("utm_");
  const tagged = [...params.keys()].some(isTag);
  let landing = null;
  try {
    landing = JSON.parse(sessionStorage.getItem(KEY));
  } catch (e) {}

  // Every event of this tab carries how the reader arrived (the landing), so a reload
  // or a click on to the next story is still credited to the post or share that
  // brought them. A new tag or a new outside referrer is a new arrival.
  if (tagged || !landing || (ref && new URL(ref).host !== location.host && ref !== landing.r)) {
    landing = {};
    if (/^https?:/.test(ref) && ref.length <= 2000) landing.r = ref;
    const u = {};
    for (const k of ["source", "medium", "campaign", "content"]) {
      const v = params.get("utm_" + k);
      if (v) u[k] = v.slice(0, 100);
    }
    if (Object.keys(u).length) landing.u = u;
    const sh = params.get("sh");
    if (/^[\w-]{8,32}$/.test(sh || "")) landing.sh = sh;
    // A newsletter link's click token: this tab's reads count as the subscriber's.
    const nl = params.get("nl");
    if (/^[\w.:~-]{1,120}$/.test(nl || "")) landing.nl = nl;
    try {
      sessionStorage.setItem(KEY, JSON.stringify(landing));
    } catch (e) {}
  }
  if (tagged) {
    // Copied from the address bar, the link should not pass our tags on.
    for (const k of [...params.keys()]) if (isTag(k)) params.delete(k);
    const q = params.toString();
    history.replaceState(history.state, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }

  // Each event carries an id of its own: a retry after a lost answer (the server busy,
  // the network gone) sends the same id, and the server counts an id once.
  const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => ALPHABET[b & 63]).join("");

  function post(body, tries) {
    // keepalive: the request outlives the page, like a beacon, and its answer is seen.
    fetch(data.collect, { method: "POST", body, keepalive: true, credentials: "omit" })
      .then((answer) => {
        if (answer.status === 503 || answer.status === 429) retry(body, tries, answer.headers.get("Retry-After"));
      })
      .catch(() => retry(body, tries));
  }
  function retry(body, tries, wait) {
    if (tries < 3) setTimeout(() => post(body, tries + 1), 1000 * Math.min(60, +wait || 2 ** tries));
  }

  function send(t, extra) {
    const event = { t, s: story, i: newId(), ...landing, ...extra };
    let body = JSON.stringify(event);
    if (new Blob([body]).size > 2048) {
      delete event.r;
      body = JSON.stringify(event);
    }
    post(body, 1);
  }

  root.hidden = false;
  send("view");

  // Engaged time, Chartbeat's way: the tab is visible and the reader did something in
  // the last 5 s. Depth is how far down the story they have seen; this section marks
  // its end, and reaching it is a read-through.
  const floor = data.engageMinSeconds ? +data.engageMinSeconds : 15;
  const goal = 1000 * Math.max(floor, 0.3 * (+data.readingSeconds || 0));
  let active = Date.now();
  let last = active;
  let engaged = 0;
  let depth = 0;
  let read = false;
  let ended = false;
  // Measured on every scroll and every second rather than with an IntersectionObserver,
  // which misses the end when a jump (the End key, a fling) carries it past unseen.
  const measure = () => {
    if (document.hidden) return; // a tab opened in the background has not been read
    const end = Math.max(1, root.getBoundingClientRect().top + scrollY);
    depth = Math.max(depth, Math.min(100, Math.floor((100 * (scrollY + innerHeight)) / end)));
    if (depth === 100 && !ended) {
      ended = true;
      send("read_through", { sd: depth });
    }
  };
  const tick = () => {
    const now = Date.now();
    if (!document.hidden) engaged += Math.max(0, Math.min(now, active + 5000) - last);
    last = now;
    measure();
    if (!read && engaged >= goal && depth >= 75) {
      read = true;
      send("engaged_read", { ms: Math.round(engaged), sd: depth });
    }
  };
  for (const type of ["scroll", "keydown", "mousemove", "mousedown", "touchstart", "focus"]) {
    addEventListener(type, () => {
      active = Date.now();
      if (type === "scroll") measure();
    }, { passive: true });
  }
  document.addEventListener("visibilitychange", () => {
    tick();
    active = Date.now();
  });
  setInterval(tick, 1000);

  document.addEventListener("click", (e) => {
    const link = e.target.closest && e.target.closest("a[data-follow-kind]");
    if (link) send("link_follow", { to: +link.dataset.followTo, k: link.dataset.followKind });
  }, true);

  const feelings = root.querySelectorAll("[data-feeling]");
  for (const button of feelings) {
    button.addEventListener("click", () => {
      send("feeling", { f: button.dataset.feeling });
      for (const other of feelings) {
        other.disabled = true;
        other.setAttribute("aria-pressed", other === button);
      }
      const status = root.querySelector("[data-feeling-status]");
      status.textContent = status.dataset.thanks;
    });
  }

  // Sharing: the server mints a share token (a share, not a person), counts the share
  // (credited to this reader's own landing) and answers with the story's URL carrying
  // the token; the plain URL is the fallback.
  const say = (text) => (root.querySelector("[data-share-status]").textContent = text);
  const form = root.querySelector("[data-mastodon]");
  const mastodon = root.querySelector("[data-share=mastodon]");
  const HOST = "storyloom:mastodon";
  async function share(button, host) {
    const n = button.dataset.share;
    let url = (document.querySelector("link[rel=canonical]") || location).href;
    try {
      const answer = await fetch(data.shareUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ s: story, n, parent: landing.sh, r: landing.r, u: landing.u }),
        signal: AbortSignal.timeout(3000),
      });
      if (answer.ok) url = (await answer.json()).url;
    } catch (e) {}
    const target = (button.dataset.intent || "")
      .replace("{h}", host)
      .replaceAll("{t}", encodeURIComponent(data.title))
      .replaceAll("{u}", encodeURIComponent(url));
    if (n === "copy") {
      try {
        await nav.clipboard.writeText(url);
        say("Link copied.");
      } catch (e) {
        say(url);
      }
    } else if (n === "email") location.href = target;
    else open(target, "_blank", "noopener");
  }
  for (const button of root.querySelectorAll("[data-share]")) {
    button.addEventListener("click", () => {
      if (button !== mastodon) return share(button);
      form.hidden = !form.hidden;
      button.setAttribute("aria-expanded", !form.hidden);
      try {
        form.server.value ||= localStorage.getItem(HOST) || "";
      } catch (e) {}
      form.server.focus();
    });
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // "@me@example.social", "https://example.social/" or "example.social"
    const host = form.server.value.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/^@?[^@/]*@/, "").split("/")[0];
    if (!/^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?$/.test(host)) return say("Type your server's name, like mastodon.social.");
    try {
      localStorage.setItem(HOST, host);
    } catch (e) {}
    share(mastodon, host);
  });
})();
