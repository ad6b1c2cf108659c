/* Storyloom compose form: a suggested send time's button puts that time in the "When"
 * field shared by every post; the server checks it again when the form is sent.
 * No dependencies, no inline script (the admin's Content-Security-Policy). */
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-send-time]");
    if (!button) return;
    const form = button.closest("form");
    const when = form && form.elements.namedItem("when");
    if (!when) return;
    when.value = button.dataset.sendTime;
    when.dispatchEvent(new Event("change", { bubbles: true }));
    when.focus();
  });
})();
