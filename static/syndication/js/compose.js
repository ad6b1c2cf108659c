/* Storyloom compose form: as each post's text changes, ask the server how long it is
 * for its network and what the voice check finds, and show it under the text.
 * The server checks everything again when the form is sent; this only helps writing.
 * No dependencies, no inline script (the admin's Content-Security-Policy). */
(function () {
  "use strict";

  const DEBOUNCE_MS = 400;

  function node(tag, className, content) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (content) element.textContent = content;
    return element;
  }

  function relatedIds(form) {
    return ["related_1", "related_2"]
      .map((name) => form.elements.namedItem(name))
      .filter((input) => input && input.value)
      .map((input) => input.value);
  }

  function renderVoice(target, voice) {
    target.replaceChildren();
    if (!voice.findings.length) {
      target.append(node("p", "compose-account__verdict", "No sales speak found."));
      return;
    }
    const verdict = voice.is_salesy ? "Reads as selling" : "Mostly fine";
    target.append(
      node("p", "compose-account__verdict", `${verdict} (voice score ${voice.score.toFixed(2)}):`),
    );
    const list = node("ul", "compose-account__findings");
    for (const finding of voice.findings) {
      const item = node("li");
      item.dataset.rule = finding.rule;
      item.append(node("mark", "", finding.phrase), ` — ${finding.message} `);
      item.append(node("em", "", `Try: ${finding.suggestion}`));
      list.append(item);
    }
    target.append(list);
  }

  function start(form) {
    const url = form.dataset.composeCheckUrl;
    const story = form.dataset.composeStory;
    const override = form.querySelector("[data-compose-override]");
    const salesy = new Map();

    function updateOverride() {
      if (!override) return;
      const needed = [...salesy.values()].some(Boolean);
      const reason = override.querySelector("textarea");
      // Never hide a reason someone already wrote or an error the server reported.
      const keep = (reason && reason.value.trim()) || override.querySelector(".error-message");
      override.hidden = !needed && !keep;
    }

    function watch(block) {
      const account = block.dataset.composeAccount;
      const text = block.querySelector("textarea");
      const include = block.querySelector('input[type="checkbox"]');
      const count = block.querySelector("[data-compose-count]");
      const voice = block.querySelector("[data-compose-voice]");
      let timer = null;
      let sequence = 0;
      let lastSent = null;

      async function check() {
        const related = relatedIds(form);
        const sent = JSON.stringify([text.value, related]);
        if (sent === lastSent) return;
        lastSent = sent;
        const mine = ++sequence;
        const data = new FormData();
        data.set("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
        data.set("story", story);
        data.set("account", account);
        data.set("text", text.value);
        related.forEach((id) => data.append("related", id));
        try {
          const response = await fetch(url, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: { "X-Requested-With": "XMLHttpRequest" },
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const result = await response.json();
          if (mine !== sequence) return; // a newer check is on its way
          count.textContent = result.count + (result.errors.length ? ` · ${result.errors.join(" ")}` : "");
          count.classList.toggle("compose-account__count--over", result.length > result.limit);
          block.classList.toggle("compose-account--problem", !result.ok);
          renderVoice(voice, result.voice);
          salesy.set(account, include.checked && result.voice.is_salesy);
        } catch (error) {
          lastSent = null;
          count.textContent = "The check could not run just now; it runs again when you type.";
        }
        updateOverride();
      }

      function later() {
        clearTimeout(timer);
        timer = setTimeout(check, DEBOUNCE_MS);
      }

      text.addEventListener("input", later);
      include.addEventListener("change", () => {
        lastSent = null;
        later();
      });
      return later;
    }

    const checks = [...form.querySelectorAll("[data-compose-account]")].map(watch);
    // Page choosers write the chosen id into a hidden input without always firing an
    // event on it, so the related stories are compared now and then instead.
    let related = JSON.stringify(relatedIds(form));
    setInterval(() => {
      const now = JSON.stringify(relatedIds(form));
      if (now !== related) {
        related = now;
        checks.forEach((later) => later());
      }
    }, 1000);
    override?.querySelector("textarea")?.addEventListener("input", updateOverride);
    checks.forEach((later) => later());
  }

  function init() {
    document.querySelectorAll("form[data-compose]").forEach(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
