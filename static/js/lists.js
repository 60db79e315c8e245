/* Keyboard navigation of list pages: in a table[data-list-nav], j / ArrowDown and k / ArrowUp
   move the focus over the rows (the focus ring sits on the row's main link, tr[data-row]
   a[data-row-link]); Enter opens it, as any focused link. x toggles the row's checkbox.
   A "select all" checkbox (input[data-select-all]) ticks every row's box; Escape clears the
   selection; [data-selected-count] says how many are ticked. Enter in an input[data-submit-with=id]
   presses that button (the bulk "Add tag" field). The column dialog ([data-column-list]) orders
   its items by drag (sortablejs, loaded by the page) or by the ↑/↓ buttons. No inline script:
   the CSP allows only files like this one. Ticking a row sends "lists:selected" to the body, which
   makes htmx fetch the bulk action controls into #bulk-actions (lists/_list.html). */
(function () {
  "use strict";
  var doc = document;

  function isTyping(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function links(table) {
    return Array.prototype.slice.call(table.querySelectorAll("tr[data-row] a[data-row-link]"));
  }

  function move(table, step) {
    var all = links(table);
    if (!all.length) return;
    var row = doc.activeElement && doc.activeElement.closest ? doc.activeElement.closest("tr[data-row]") : null;
    var current = row ? all.indexOf(row.querySelector("a[data-row-link]")) : -1;
    var next = current === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(current + step, 0), all.length - 1);
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }

  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || doc.querySelector("dialog[open]")) return;
    var table = doc.querySelector("table[data-list-nav]");
    if (!table) return;
    switch (event.key) {
      case "j":
      case "ArrowDown":
        event.preventDefault();
        move(table, 1);
        break;
      case "k":
      case "ArrowUp":
        event.preventDefault();
        move(table, -1);
        break;
      case "x": {
        var row = doc.activeElement && doc.activeElement.closest ? doc.activeElement.closest("tr[data-row]") : null;
        var box = row && row.querySelector("input[type=checkbox]");
        if (box) { event.preventDefault(); box.click(); }
        break;
      }
      case "Escape": {
        var ticked = table.querySelectorAll("input[type=checkbox]:checked");
        if (ticked.length) {
          Array.prototype.forEach.call(ticked, function (box) { box.checked = false; });
          updateCount(table);
        }
        break;
      }
    }
  });

  function updateCount(table) {
    var out = doc.querySelector("[data-selected-count]");
    if (!out || !table) return;
    var n = table.querySelectorAll("tr[data-row] input[type=checkbox]:checked").length;
    out.textContent = n ? n + " selected" : "";
    // the bulk action controls are fetched (htmx, #bulk-actions) when the first row is ticked
    if (n) doc.body.dispatchEvent(new CustomEvent("lists:selected", { detail: { count: n } }));
  }

  doc.addEventListener("change", function (event) {
    var table = event.target.closest && event.target.closest("table[data-list-nav]");
    if (table) updateCount(table);
  });

  doc.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("input[data-submit-with]")) return;
    var button = doc.getElementById(input.getAttribute("data-submit-with"));
    if (button) { event.preventDefault(); button.click(); }
  });

  // --- the column dialog ------------------------------------------------------------------
  function moveItem(button, step) {
    var item = button.closest("[data-column]");
    if (!item) return;
    var sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    if (step < 0) item.parentNode.insertBefore(item, sibling);
    else item.parentNode.insertBefore(sibling, item);
    button.focus();
  }

  doc.addEventListener("click", function (event) {
    var up = event.target.closest && event.target.closest("[data-column-up]");
    var down = event.target.closest && event.target.closest("[data-column-down]");
    if (up) { event.preventDefault(); moveItem(up, -1); }
    if (down) { event.preventDefault(); moveItem(down, 1); }
  });

  function initSortable() {
    if (!window.Sortable) return;
    Array.prototype.forEach.call(doc.querySelectorAll("[data-column-list]"), function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      window.Sortable.create(list, { handle: ".column-handle", animation: 120 });
    });
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", initSortable);
  else initSortable();

  doc.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-select-all]")) return;
    var table = all.closest("table");
    Array.prototype.forEach.call(table.querySelectorAll("tr[data-row] input[type=checkbox]"), function (box) {
      box.checked = all.checked;
    });
    updateCount(table);
  });
})();
