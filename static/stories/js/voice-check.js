/* Storyloom voice check: posts the story form to the voice-check endpoint as the
 * editor writes and lists the phrases that read as selling. No dependencies. */
(function () {
  "use strict";

  function text(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function render(panel, data) {
    const status = panel.querySelector("[data-voice-status]");
    const list = panel.querySelector("[data-voice-findings]");
    list.replaceChildren();
    const count = data.blocks.reduce((n, block) => n + block.findings.length, 0);
    panel.dataset.salesy = data.is_salesy ? "true" : "false";
    if (!count) {
      status.textContent = `No sales speak found (score ${data.score.toFixed(2)}).`;
      return;
    }
    status.textContent =
      `${count} phrase${count === 1 ? "" : "s"} read as selling · score ${data.score.toFixed(2)}` +
      (data.is_salesy
        ? ` (at or over ${data.threshold.toFixed(2)}: publishing needs a voice review)`
        : "");
    for (const block of data.blocks) {
      for (const finding of block.findings) {
        const item = text("li", "voice-check__finding");
        item.dataset.rule = finding.rule;
        item.append(text("p", "voice-check__where", `${block.label} · ${finding.rule}`));
        const quote = text("p", "voice-check__quote");
        quote.append(
          document.createTextNode(finding.before.length >= 60 ? "…" + finding.before : finding.before),
          text("mark", "voice-check__phrase", finding.phrase),
          document.createTextNode(finding.after.length >= 60 ? finding.after + "…" : finding.after),
        );
        item.append(quote);
        item.append(text("p", "voice-check__message", finding.message));
        item.append(text("p", "voice-check__suggestion", `Try: ${finding.suggestion}`));
        list.append(item);
      }
    }
  }

  function start(panel) {
    const form = panel.closest("form");
    if (!form) return;
    let lastBody = null;
    let inFlight = false;

    async function run() {
      if (inFlight) return;
      const data = new FormData(form);
      data.set("page", panel.dataset.page);
      data.set("parent", panel.dataset.parent);
      const body = new URLSearchParams(data).toString();
      if (body === lastBody) return;
      inFlight = true;
      try {
        const response = await fetch(panel.dataset.endpoint, {
          method: "POST",
          body: data,
          headers: { "X-Requested-With": "XMLHttpRequest" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        render(panel, await response.json());
        lastBody = body;
      } catch (error) {
        panel.querySelector("[data-voice-status]").textContent =
          "The voice check could not run just now; it will try again.";
      } finally {
        inFlight = false;
      }
    }

    // Rich text editors write to their hidden inputs as the editor types, without
    // always firing events on the form, so the form is also compared every second.
    form.addEventListener("input", () => window.setTimeout(run, 300));
    form.addEventListener("change", run);
    window.setInterval(run, 1000);
    run();
  }

  function init() {
    document.querySelectorAll("[data-voice-check]").forEach(start);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
