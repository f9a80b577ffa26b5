/* Behaviour of the pages that HTML alone cannot give: row selection, the filter builder and the
   type-ahead pickers. No build step: plain JavaScript, initialised on load and after HTMX swaps. */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  /* -- selection of grid rows ---------------------------------------------------------------- */
  function initSelection(root) {
    var form = root.querySelector ? root.querySelector("#bulk-form") : null;
    if (!form && root.id === "bulk-form") form = root;
    if (!form) form = document.getElementById("bulk-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var pageBox = form.querySelector("[data-select-page]");
    var allField = form.querySelector("[data-select-all-filter]");
    var counter = form.querySelector("[data-selected-count]");
    var selectFilter = form.querySelector("[data-select-filter]");
    var boxes = function () { return form.querySelectorAll("input[name=ids]"); };

    function refresh() {
      var all = boxes(), checked = 0;
      all.forEach(function (b) { if (b.checked) checked++; });
      var total = parseInt(counter.dataset.total || "0", 10);
      if (allField.value === "1") {
        counter.textContent = counter.dataset.exact === "1"
          ? counter.dataset.labelAll + " " + total.toLocaleString("ru-RU")
          : counter.dataset.labelAll.replace(/:\s*$/, "");
      } else {
        counter.textContent = counter.dataset.labelSome + " " + checked;
      }
      var any = checked > 0 || allField.value === "1";
      form.querySelectorAll("[data-bulk]").forEach(function (b) { b.disabled = !any; });
      if (pageBox) pageBox.checked = all.length > 0 && checked === all.length;
      if (selectFilter) selectFilter.hidden = !(all.length > 0 && checked === all.length && total > all.length && allField.value !== "1");
    }
    if (pageBox) pageBox.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = pageBox.checked; });
      if (!pageBox.checked) allField.value = "";
      refresh();
    });
    form.addEventListener("change", function (e) {
      if (e.target.name === "ids" && !e.target.checked) allField.value = "";
      refresh();
    });
    if (selectFilter) selectFilter.addEventListener("click", function () {
      allField.value = "1";
      refresh();
    });
    refresh();
  }

  /* -- the filter builder -------------------------------------------------------------------- */
  function makeInput(name, value, meta, op) {
    if (meta && meta.options && meta.options.length && (op === "eq" || op === "ne" || op === "contains")) {
      var sel = document.createElement("select");
      sel.name = name;
      sel.className = "form-select form-select-sm w-auto";
      meta.options.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o[0]; opt.textContent = o[1];
        if (String(value) === String(o[0])) opt.selected = true;
        sel.appendChild(opt);
      });
      return sel;
    }
    var input = document.createElement("input");
    input.name = name;
    input.value = value || "";
    input.className = "form-control form-control-sm w-auto";
    if (meta && (meta.type === "date" || meta.type === "datetime")) input.placeholder = "дд.мм.гггг";
    return input;
  }

  function hidden(name) {
    var h = document.createElement("input");
    h.type = "hidden"; h.name = name; h.value = "";
    return h;
  }

  function renderRow(row, meta, valueless) {
    var field = row.querySelector("[data-field]");
    var opSel = row.querySelector("[data-op]");
    var slot = row.querySelector("[data-value-slot]");
    var m = meta[field.value] || { ops: [], options: [] };
    var wanted = opSel.value || opSel.dataset.selected;
    opSel.innerHTML = "";
    m.ops.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0]; opt.textContent = o[1];
      if (o[0] === wanted) opt.selected = true;
      opSel.appendChild(opt);
    });
    var op = opSel.value;
    var keep1 = slot.querySelector("[name=fv]"), keep2 = slot.querySelector("[name=fv2]");
    var v1 = keep1 ? keep1.value : slot.dataset.value, v2 = keep2 ? keep2.value : slot.dataset.value2;
    slot.innerHTML = "";
    slot.className = "d-flex gap-1";
    if (valueless.indexOf(op) >= 0) {
      slot.appendChild(hidden("fv"));
      slot.appendChild(hidden("fv2"));
    } else if (op === "between") {
      slot.appendChild(makeInput("fv", v1, m, op));
      slot.appendChild(makeInput("fv2", v2, m, op));
    } else {
      slot.appendChild(makeInput("fv", v1, m, op));
      slot.appendChild(hidden("fv2"));
    }
  }

  function initFilters() {
    var form = document.getElementById("filter-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var meta = readJSON("filter-meta") || {};
    var valueless = readJSON("valueless-ops") || [];
    var list = form.querySelector("#conditions");
    var tpl = form.querySelector("#condition-template");
    form.querySelectorAll("[data-condition]").forEach(function (r) {
      if (!tpl.content.contains(r)) renderRow(r, meta, valueless);
    });
    form.addEventListener("change", function (e) {
      var row = e.target.closest("[data-condition]");
      if (!row) return;
      if (e.target.matches("[data-field]")) row.querySelector("[data-op]").value = "";
      if (e.target.matches("[data-field], [data-op]")) renderRow(row, meta, valueless);
    });
    form.addEventListener("click", function (e) {
      if (e.target.matches("[data-add-condition]")) {
        var node = tpl.content.firstElementChild.cloneNode(true);
        list.appendChild(node);
        renderRow(node, meta, valueless);
      } else if (e.target.matches("[data-remove-condition]")) {
        e.target.closest("[data-condition]").remove();
      }
    });
  }

  /* -- type-ahead pickers for links and users ------------------------------------------------ */
  function initPickers(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-picker]").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var hiddenInput = box.querySelector("input[type=hidden]");
      var text = box.querySelector("[data-picker-text]");
      var list = box.querySelector("[data-picker-list]");
      var timer = null;
      function search() {
        fetch(box.dataset.url + "?q=" + encodeURIComponent(text.value), { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) { list.innerHTML = html; list.hidden = false; });
      }
      text.addEventListener("input", function () {
        if (!text.value) hiddenInput.value = "";
        clearTimeout(timer);
        timer = setTimeout(search, 200);
      });
      text.addEventListener("focus", function () { if (!list.innerHTML) search(); else list.hidden = false; });
      list.addEventListener("mousedown", function (e) {
        var item = e.target.closest("[data-id]");
        if (!item) return;
        e.preventDefault();
        hiddenInput.value = item.dataset.id;
        text.value = item.dataset.title;
        list.hidden = true;
      });
      text.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
    });
  }

  /* -- moving rows up and down (column order) ------------------------------------------------ */
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-move]");
    if (!btn) return;
    var row = btn.closest("tr");
    if (btn.dataset.move === "up" && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
    } else if (btn.dataset.move === "down" && row.nextElementSibling) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
    }
  });

  /* -- the menu bar keeps to one line: what does not fit moves under «Ещё» ---------------------- */
  function moreEntry(li) {
    // A menu's title and its items, or a single link, as items of the «Ещё» menu.
    var out = [];
    var toggle = li.querySelector(":scope > .nav-link");
    var sub = li.querySelector(":scope > .dropdown-menu");
    if (sub) {
      var head = document.createElement("li");
      var h = document.createElement("h6");
      h.className = "dropdown-header";
      h.textContent = toggle.textContent.trim();
      head.appendChild(h);
      out.push(head);
      sub.querySelectorAll(":scope > li").forEach(function (item) { out.push(item.cloneNode(true)); });
    } else if (toggle) {
      var item = document.createElement("li");
      var a = document.createElement("a");
      a.className = "dropdown-item";
      a.href = toggle.getAttribute("href");
      a.textContent = toggle.textContent.trim();
      item.appendChild(a);
      out.push(item);
    }
    return out;
  }
  function fitMenu() {
    var bar = document.querySelector("[data-nav-overflow]");
    if (!bar) return;
    var more = bar.querySelector("[data-nav-more]");
    var menu = more.querySelector("[data-nav-more-menu]");
    var entries = Array.prototype.filter.call(bar.children, function (li) { return li !== more; });
    entries.forEach(function (li) { li.hidden = false; });
    more.hidden = true;
    menu.innerHTML = "";
    var toggler = document.querySelector(".navbar-toggler");
    if (toggler && getComputedStyle(toggler).display !== "none") return;  // folded on a phone
    var collapse = bar.parentElement;
    var fits = function () { return collapse.scrollWidth <= collapse.clientWidth + 1; };
    if (fits()) return;
    more.hidden = false;
    // Table menus go first, the last one first; the fixed entries (calendar, reports, settings) last.
    var order = entries.filter(function (li) { return !li.hasAttribute("data-nav-keep"); }).reverse()
      .concat(entries.filter(function (li) { return li.hasAttribute("data-nav-keep"); }).reverse());
    var moved = [];
    for (var i = 0; i < order.length && !fits(); i++) {
      order[i].hidden = true;
      moved.unshift(order[i]);
    }
    entries.forEach(function (li) {
      if (moved.indexOf(li) >= 0) moreEntry(li).forEach(function (item) { menu.appendChild(item); });
    });
  }
  var fitTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(fitTimer);
    fitTimer = setTimeout(fitMenu, 100);
  });
  document.addEventListener("DOMContentLoaded", fitMenu);

  /* -- pinned grid columns ------------------------------------------------------------------- */
  // The columns up to the pressed pin (by default: the selection, № and the first column) stay in
  // place while the table scrolls sideways; remembered per table in this browser.
  var PHONE = window.matchMedia("(max-width: 767.98px)");
  function pinnedCount(table) {
    var stored = null;
    try { stored = window.localStorage.getItem("kt-pin:" + table.dataset.table); } catch (e) { /* private mode */ }
    return stored === null ? 3 : parseInt(stored, 10) || 0;
  }
  function applyPins(table) {
    var n = PHONE.matches ? 0 : pinnedCount(table);
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    var lefts = [], left = 0;
    Array.prototype.forEach.call(head.cells, function (c) { lefts.push(left); left += c.getBoundingClientRect().width; });
    Array.prototype.forEach.call(table.rows, function (tr) {
      if (tr.cells.length !== head.cells.length) return;
      Array.prototype.forEach.call(tr.cells, function (c, i) {
        var on = i < n;
        c.classList.toggle("kt-pinned", on);
        c.style.left = on ? lefts[i] + "px" : "";
      });
    });
    table.querySelectorAll("[data-pin]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(parseInt(b.dataset.pin, 10) === n));
    });
  }
  function initPins(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("table[data-table]").forEach(applyPins);
  }
  document.addEventListener("click", function (e) {
    var pin = e.target.closest ? e.target.closest("[data-pin]") : null;
    if (!pin) return;
    var table = pin.closest("table[data-table]");
    var n = parseInt(pin.dataset.pin, 10);
    if (pinnedCount(table) === n) n = 0;
    try { window.localStorage.setItem("kt-pin:" + table.dataset.table, String(n)); } catch (err) { /* private mode */ }
    applyPins(table);
  });
  window.addEventListener("resize", function () { initPins(document); });

  /* -- the keyboard: «/» searches, ↑ ↓ and Enter walk the grid, Esc closes an open form ------ */
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function gridRows() {
    var grid = document.querySelector("[data-testid=grid]");
    return grid ? Array.prototype.filter.call(grid.tBodies[0].rows, function (r) {
      return r.querySelector("input[name=ids]");
    }) : [];
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (e.key === "Escape") {
      // An open row form of the card: «Отмена» for an edit, folded up for a new row.
      var cancel = document.querySelector("[data-testid=edit-row-form] button[hx-get]");
      var open = document.querySelector(".collapse.show > form[hx-post]");
      if (cancel) { e.preventDefault(); cancel.click(); }
      else if (open && window.bootstrap) { e.preventDefault(); bootstrap.Collapse.getOrCreateInstance(open.parentElement).hide(); }
      return;
    }
    if (typing(e.target)) return;
    if (e.key === "/") {
      var search = document.querySelector("#search-form input[name=q]") ||
        document.querySelector("[data-testid=global-search] input[name=q]");
      if (search && search.offsetParent !== null) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    var rows = gridRows();
    if (!rows.length) return;
    var current = rows.findIndex(function (r) { return r.classList.contains("kt-current"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var next = current < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, current + (e.key === "ArrowDown" ? 1 : -1)));
      if (current >= 0) { rows[current].classList.remove("kt-current", "table-active"); rows[current].removeAttribute("aria-current"); }
      rows[next].classList.add("kt-current", "table-active");
      rows[next].setAttribute("aria-current", "true");
      rows[next].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter" && current >= 0) {
      var link = rows[current].querySelector("td:nth-child(2) a");
      if (link) { e.preventDefault(); link.click(); }
    }
  });

  /* -- the grid's column filters ------------------------------------------------------------ */
  // The boxes sit in the table, inside the selection form, and belong to #quick-form through their
  // form attribute: their events never reach that form, and with several text boxes and no submit
  // button Enter submits nothing. A change or Enter sends the form once per distinct query.
  function quickFilterForm(el) {
    return el && el.form && el.form.id === "quick-form" ? el.form : null;
  }
  function applyQuickFilter(form) {
    if (!window.htmx) return form.submit();
    var query = new URLSearchParams(new FormData(form)).toString();
    if (form.dataset.sent === query) return;
    form.dataset.sent = query;
    htmx.trigger(form, "kt:quick-filter");
  }
  document.addEventListener("change", function (e) {
    var form = quickFilterForm(e.target);
    if (form) applyQuickFilter(form);
  });
  document.addEventListener("keydown", function (e) {
    var form = e.key === "Enter" ? quickFilterForm(e.target) : null;
    if (!form) return;
    e.preventDefault();
    applyQuickFilter(form);
  });

  /* -- a done work row may not be dated in the future (decision 0008): warned before saving --- */
  function warnFutureDone(form) {
    var date = form.querySelector("input[type=date][name$='client_work-date']");
    var done = form.querySelector("input[type=checkbox][name$='client_work-done']");
    if (!date || !done) return;
    var now = new Date();
    var today = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
      String(now.getDate()).padStart(2, "0");
    var warning = form.querySelector("[data-future-done]");
    var show = done.checked && date.value > today;
    if (show && !warning) {
      warning = document.createElement("div");
      warning.className = "form-text text-danger";
      warning.setAttribute("data-future-done", "");
      warning.setAttribute("role", "alert");
      warning.textContent = document.body.dataset.futureDone;
      date.insertAdjacentElement("afterend", warning);
    } else if (!show && warning) {
      warning.remove();
    }
  }
  document.addEventListener("change", function (e) {
    if (e.target.form) warnFutureDone(e.target.form);
  });

  /* -- bulk edit: changing a field's value ticks the field ---------------------------------- */
  function tickBulkField(e) {
    var row = e.target.closest ? e.target.closest(".bulk-field") : null;
    if (!row || e.target.name === "set") return;
    var box = row.querySelector("input[name=set]");
    if (box) box.checked = true;
  }
  document.addEventListener("input", tickBulkField);
  document.addEventListener("change", tickBulkField);

  /* -- what inline handlers used to do (the Content-Security-Policy allows no inline script) -- */
  // <form data-confirm="…">: ask before submitting.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // <select data-autosubmit>: submit the form on change.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) {
      e.target.form.submit();
    }
    // The designer's «default» select: the constant's input only while «constant» is chosen.
    if (e.target.matches && e.target.matches("[data-default-kind]")) {
      var box = e.target.closest(".type-options");
      var text = box ? box.querySelector("[data-default-text]") : null;
      if (text) text.hidden = e.target.value !== "constant";
    }
  });
  document.addEventListener("click", function (e) {
    // <input data-select-on-click>: select the whole text (a link to copy).
    if (e.target.matches && e.target.matches("[data-select-on-click]")) e.target.select();
    // <button data-insert-key="k" data-insert-into="id">: append «{k}» to the input.
    var insert = e.target.closest ? e.target.closest("[data-insert-key]") : null;
    if (insert) {
      var input = document.getElementById(insert.dataset.insertInto);
      if (input) {
        input.value = (input.value + " {" + insert.dataset.insertKey + "}").trim();
        input.focus();
      }
    }
  });
  // The notifications bell refreshes when the tab comes back into view (htmx has no eval here,
  // so no trigger filter: the event is fired for it).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && window.htmx) {
      htmx.trigger(document.body, "kt:visible");
    }
  });

  function init(root) {
    initPins(document);
    initSelection(root || document);
    initFilters();
    initPickers(root || document);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (e) {
    init(e.target);
    if (e.target.closest && e.target.closest("[data-nav-overflow]")) fitMenu();
  });

  /* -- a partial request that failed says so instead of doing nothing ---------------------- */
  function showRequestError(text) {
    var main = document.querySelector("main");
    if (!main || !text) return;
    var box = document.createElement("div");
    box.className = "alert alert-danger alert-dismissible";
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "request-error");
    box.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn-close"; close.setAttribute("data-bs-dismiss", "alert");
    box.appendChild(close);
    main.insertBefore(box, main.firstChild);
  }
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    var text = status === 404 ? document.body.dataset.htmxGone : document.body.dataset.htmxError;
    showRequestError(text + (status ? " (" + status + ")" : ""));
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError(document.body.dataset.htmxOffline);
  });
})();
