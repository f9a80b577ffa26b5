// The desktop («Рабочий стол»): reorder widgets by dragging their cards (native HTML5 drag and
// drop). The new order is posted as the widgets' old positions («2,0,1»); then the page reloads
// so every widget's buttons address its new position.
(function () {
  "use strict";
  function init() {
    var board = document.getElementById("desktop");
    if (!board) return;
    var dragged = null;
    board.addEventListener("dragstart", function (e) {
      dragged = e.target.closest(".desktop-widget");
      if (!dragged) return;
      dragged.classList.add("opacity-50");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.index);
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("opacity-50");
    });
    board.addEventListener("dragover", function (e) {
      var over = e.target.closest(".desktop-widget");
      if (!dragged || !over) return;
      e.preventDefault();
      if (over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = (e.clientY - box.top) / box.height > 0.5 || (e.clientX - box.left) / box.width > 0.5;
      board.insertBefore(dragged, after ? over.nextSibling : over);
    });
    board.addEventListener("drop", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var order = Array.prototype.map.call(board.querySelectorAll(".desktop-widget"), function (w) {
        return w.dataset.index;
      });
      var token = document.querySelector('meta[name="csrf-token"]').content;
      var body = new URLSearchParams({ order: order.join(",") });
      fetch(board.dataset.moveUrl, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      }).then(function (response) {
        if (response.ok) window.location.reload();
      });
      dragged = null;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
