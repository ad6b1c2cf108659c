/* Storyloom "For you": fills the empty [data-for-you] section of a cached page with this
 * reader's own picks (syndication/newsletter/views/for_you.py), and shows the audience variants
 * of the story that match the reader's interests. The page itself is the same for every
 * reader; only this fetched fragment is personal, and it is never cached.
 *
 * A reader who came from a newsletter link is known by the link's token (engage.js keeps
 * it for the tab, or it is still in the address); nothing is kept on the device unless
 * the reader presses Yes, which sets one cookie on the server's answer. Readers who ask
 * not to be tracked (Do Not Track, Global Privacy Control) are never identified here. */
(() => {
  "use strict";
  const box = document.querySelector("[data-for-you]");
  if (!box) return;
  const nav = navigator;
  const quiet = nav.doNotTrack === "1" || window.doNotTrack === "1" || nav.globalPrivacyControl;
  const LANDING = "storyloom:landing";
  const DECLINED = "storyloom:for-you:declined";
  const store = window.sessionStorage;

  // The click token leaves the address bar (a copied link must not carry it), as the
  // utm tags do in engage.js, which has usually taken it already.
  const params = new URLSearchParams(location.search);
  let nl = params.get("nl");
  if (nl !== null) {
    params.delete("nl");
    const q = params.toString();
    history.replaceState(history.state, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
  let landing = {};
  try {
    landing = JSON.parse(store.getItem(LANDING)) || {};
  } catch (e) {}
  nl = nl || landing.nl;
  let declined = false;
  try {
    declined = store.getItem(DECLINED) === "1";
  } catch (e) {}

  // Audience variants: the first one for an interest the reader follows, else the default.
  function showVariants(interests) {
    for (const block of document.querySelectorAll("[data-audience]")) {
      const variants = [...block.querySelectorAll("[data-interest]")];
      const match = variants.find((v) => interests.includes(v.dataset.interest));
      for (const v of variants) v.hidden = v !== match;
      const fallback = block.querySelector("[data-audience-default]");
      if (fallback) fallback.hidden = Boolean(match);
    }
  }

  // A story page's own "More on…" block: the reader's picks take its place, so the story
  // ends with one list of stories. The picks leave out every story the rest of the page
  // shows (its text's links, "Continue the story", background), sent as ``shown``.
  const more = box.dataset.story ? document.querySelector("[data-more-stories]") : null;
  const shown = [];
  if (box.dataset.story) {
    for (const el of document.querySelectorAll("[data-follow-to], [data-story-id]")) {
      if (box.contains(el) || (more && more.contains(el))) continue;
      const id = el.dataset.followTo || el.dataset.storyId;
      if (id && !shown.includes(id)) shown.push(id);
    }
  }

  function put(html) {
    box.innerHTML = html;
    const content = box.querySelector("[data-for-you-content]");
    box.hidden = !content || !content.children.length;
    if (more) more.hidden = Boolean(content && content.hasAttribute("data-picked"));
    showVariants(((content && content.dataset.interests) || "").split(" ").filter(Boolean));
  }

  function load() {
    const q = new URLSearchParams();
    if (box.dataset.story) q.set("story", box.dataset.story);
    if (shown.length) q.set("shown", shown.slice(0, 50).join(","));
    if (nl && !quiet) q.set("nl", nl);
    if (declined) q.set("ask", "0");
    fetch(box.dataset.url + "?" + q, { credentials: "same-origin" })
      .then((answer) => (answer.ok ? answer.text() : ""))
      .then(put)
      .catch(() => {});
  }

  box.addEventListener("submit", async (e) => {
    const form = e.target.closest("[data-for-you-form]");
    if (!form) return;
    e.preventDefault();
    const body = new FormData(form, e.submitter);
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    if (form.hasAttribute("data-forget")) {
      // Forgotten means forgotten in this tab too: the newsletter token goes as well.
      nl = null;
      delete landing.nl;
      try {
        store.setItem(LANDING, JSON.stringify(landing));
      } catch (err) {}
    }
    try {
      const answer = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      put(await answer.text());
    } catch (err) {
      for (const button of form.querySelectorAll("button")) button.disabled = false;
    }
  });

  box.addEventListener("click", (e) => {
    if (!e.target.closest("[data-for-you-dismiss]")) return;
    // "No thanks": the picks stay for this tab, the question is not asked again in it,
    // and nothing is kept anywhere.
    declined = true;
    try {
      store.setItem(DECLINED, "1");
    } catch (err) {}
    e.target.closest("form").remove();
  });

  load();
})();
