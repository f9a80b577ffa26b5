// Drag an item of the calendar to another day: POST the new date to the move view (which goes
// through the records service, so rules and history hold), then refresh the calendar body.
(function () {
  "use strict";
  let dragged = null;

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function refresh(cal) {
    if (window.htmx) {
      htmx.ajax("GET", window.location.href, { target: "#calendar-body", swap: "outerHTML" });
    } else {
      window.location.reload();
    }
  }

  document.addEventListener("dragstart", function (e) {
    const item = e.target.closest && e.target.closest(".cal-item");
    if (!item) return;
    dragged = item;
    item.classList.add("cal-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.pk);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("cal-dragging");
    document.querySelectorAll(".cal-drop").forEach((el) => el.classList.remove("cal-drop"));
    dragged = null;
  });
  document.addEventListener("dragover", function (e) {
    const day = e.target.closest && e.target.closest(".cal-day[data-date]");
    if (!day || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".cal-drop").forEach((el) => el !== day && el.classList.remove("cal-drop"));
    day.classList.add("cal-drop");
  });
  document.addEventListener("drop", function (e) {
    const day = e.target.closest && e.target.closest(".cal-day[data-date]");
    if (!day || !dragged) return;
    e.preventDefault();
    const cal = day.closest("[data-move-url]");
    const item = dragged;
    day.classList.remove("cal-drop");
    if (item.closest(".cal-day") === day) return;
    day.appendChild(item);
    cal.classList.add("cal-busy");
    const body = new URLSearchParams({
      table: item.dataset.table,
      pk: item.dataset.pk,
      field: item.dataset.field,
      date: day.dataset.date,
    });
    fetch(cal.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    })
      .then((r) => r.json().then((data) => ({ ok: r.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) window.alert(data.error || "Ошибка");
        refresh(cal);
      })
      .catch(() => refresh(cal));
  });
})();
