// The posting calendar: drag a scheduled post to another day (month) or day and hour
// (week), or use its Move form; both send the new local time to the reschedule view,
// which applies the queue's rules and answers JSON. No framework: the page works
// without this script too (the Move form posts and comes back with a message).
(function () {
  "use strict";

  const root = document.querySelector("[data-calendar]");
  if (!root) return;
  const csrf = root.dataset.calendarCsrf;
  const status = root.querySelector("[data-calendar-status]");
  let dragged = null;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("calendar__status--error", Boolean(isError));
  }

  function cellFor(date, hour) {
    const hourPart = root.classList.contains("calendar--week") ? `[data-hour="${hour}"]` : "";
    return root.querySelector(`[data-calendar-drop][data-date="${date}"]${hourPart}`);
  }

  async function move(card, when) {
    const body = new FormData();
    body.append("when", when);
    card.classList.add("calendar-post--moving");
    let answer;
    try {
      const response = await fetch(card.dataset.rescheduleUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
      });
      answer = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    } catch (error) {
      answer = { error: "The calendar could not reach the server; nothing was moved." };
    } finally {
      card.classList.remove("calendar-post--moving");
    }
    if (answer.error) {
      say(answer.error, true);
      return false;
    }
    card.dataset.time = answer.time;
    card.querySelector("[data-calendar-time]").textContent = answer.time;
    const input = card.querySelector("input[name=when]");
    if (input) input.value = answer.value;
    const hour = String(answer.hour).padStart(2, "0");
    const target = cellFor(answer.date, hour);
    if (target) {
      target.querySelector("[data-calendar-posts]").appendChild(card);
    } else {
      card.remove();
    }
    say(answer.message + (target ? "" : " It is outside the days shown."), false);
    return true;
  }

  root.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest("[data-calendar-post][draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.calendarPost);
  });

  root.addEventListener("dragend", () => {
    dragged = null;
    root.querySelectorAll(".calendar__cell--over").forEach((cell) => cell.classList.remove("calendar__cell--over"));
  });

  root.addEventListener("dragover", (event) => {
    const cell = event.target.closest && event.target.closest("[data-calendar-drop]");
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("calendar__cell--over");
  });

  root.addEventListener("dragleave", (event) => {
    const cell = event.target.closest && event.target.closest("[data-calendar-drop]");
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("calendar__cell--over");
  });

  root.addEventListener("drop", (event) => {
    const cell = event.target.closest && event.target.closest("[data-calendar-drop]");
    if (!cell || !dragged) return;
    event.preventDefault();
    cell.classList.remove("calendar__cell--over");
    const card = dragged;
    dragged = null;
    // Month: the same time on the new day. Week: the new hour, the same minutes.
    const [hours, minutes] = card.dataset.time.split(":");
    const time = cell.dataset.hour ? `${cell.dataset.hour}:${minutes}` : `${hours}:${minutes}`;
    move(card, `${cell.dataset.date}T${time}`);
  });

  root.addEventListener("submit", async (event) => {
    const form = event.target.closest("[data-calendar-move]");
    if (!form) return;
    event.preventDefault();
    const card = form.closest("[data-calendar-post]");
    const when = form.querySelector("input[name=when]").value;
    if (await move(card, when)) {
      const details = form.closest("details");
      if (details) details.open = false;
      const summary = card.querySelector("summary");
      if (summary && card.isConnected) summary.focus();
    }
  });
})();
