/* Storyloom compose form: as each post's text changes, ask the server how long it is
 * for its network and what the voice check finds, and show it under the text; number
 * the ticked pictures, start from the audience's picture when the audience changes, and
 * preview a picture chosen from the library as the network crops it.
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

  /* One account's pictures: positions, the count against the network's limit, the
   * audience's default picture and the library picture's preview and alt text. */
  function watchPictures(form, block) {
    const box = block.querySelector("[data-compose-pictures]");
    if (!box) return;
    const max = Number(box.dataset.composeMax);
    const account = block.dataset.composeAccount;
    const items = [...box.querySelectorAll("[data-compose-picture]")];
    const library = box.querySelector("[data-compose-library]");
    const libraryInput = library?.querySelector('input[type="hidden"]');
    const libraryPreview = library?.querySelector("[data-compose-library-preview]");
    const libraryMessage = library?.querySelector("[data-compose-library-message]");
    const libraryAlt = library?.querySelector("textarea");
    const count = box.querySelector("[data-compose-picture-count]");
    const interest = box.querySelector("[data-compose-interest]");
    // Sent back with a problem: what was ticked is someone's choice, not the default.
    let touched = box.hasAttribute("data-compose-chosen");
    let autoAlt = null;

    function tick(item) {
      return item.querySelector('input[type="checkbox"]');
    }

    function number() {
      let position = 0;
      for (const item of items) {
        const chosen = tick(item).checked;
        item.classList.toggle("compose-picture--chosen", chosen);
        if (chosen) position += 1;
        item.querySelector("[data-compose-position]").textContent = chosen ? `Picture ${position}` : "";
      }
      const fromLibrary = libraryInput && libraryInput.value;
      if (fromLibrary) position += 1;
      if (library) {
        library.querySelector("[data-compose-position]").textContent = fromLibrary ? `Picture ${position}` : "";
      }
      count.textContent = `${position} of at most ${max} picture${max === 1 ? "" : "s"}`;
      count.classList.toggle("compose-pictures__count--over", position > max);
    }

    function startFromAudience() {
      // Only until someone chooses pictures themselves.
      if (touched) return;
      const wanted = interest.value;
      const match =
        (wanted && items.find((item) => item.dataset.interests.split(" ").includes(wanted))) ||
        items.find((item) => item.dataset.source === "hero");
      for (const item of items) tick(item).checked = item === match;
      number();
    }

    async function showLibrary() {
      const id = libraryInput.value;
      libraryMessage.textContent = "";
      if (!id) {
        libraryPreview.hidden = true;
        libraryPreview.removeAttribute("src");
        number();
        return;
      }
      try {
        const url = `${form.dataset.composePreviewUrl}?account=${encodeURIComponent(account)}&image=${encodeURIComponent(id)}`;
        const response = await fetch(url, { credentials: "same-origin" });
        const result = await response.json();
        if (libraryInput.value !== id) return; // changed again meanwhile
        if (result.preview) {
          libraryPreview.src = result.preview.url;
          libraryPreview.width = result.preview.width;
          libraryPreview.height = result.preview.height;
          libraryPreview.hidden = false;
        } else {
          libraryPreview.hidden = true;
        }
        libraryMessage.textContent = result.error || "";
        // Fill the alt text in, unless someone wrote their own.
        if (result.alt && (!libraryAlt.value.trim() || libraryAlt.value === autoAlt)) {
          libraryAlt.value = result.alt;
          autoAlt = result.alt;
        }
      } catch (error) {
        libraryMessage.textContent = "The preview could not be loaded just now.";
      }
      number();
    }

    for (const item of items) {
      tick(item).addEventListener("change", () => {
        touched = true;
        number();
      });
    }
    interest?.addEventListener("change", startFromAudience);
    if (libraryInput) {
      // The image chooser writes the chosen id into its hidden input without always
      // firing an event on it, so the value is compared now and then as well.
      let last = libraryInput.value;
      const compare = () => {
        if (libraryInput.value !== last) {
          last = libraryInput.value;
          showLibrary();
        }
      };
      libraryInput.addEventListener("change", compare);
      setInterval(compare, 500);
    }
    number();
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
      const text = block.querySelector("textarea[data-compose-text]");
      const include = block.querySelector(`input[name="include_${account}"]`);
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

    const blocks = [...form.querySelectorAll("[data-compose-account]")];
    blocks.forEach((block) => watchPictures(form, block));
    const checks = blocks.map(watch);
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
