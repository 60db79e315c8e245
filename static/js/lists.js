/* Keyboard navigation of list pages: in a table[data-list-nav], j / ArrowDown and k / ArrowUp
   move the focus over the rows (the focus ring sits on the row's main link, tr[data-row]
   a[data-row-link]); Enter opens it, as any focused link. x toggles the row's checkbox.
   A "select all" checkbox (input[data-select-all]) ticks every row's box. No inline script:
   the CSP allows only files like this one. */
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
    }
  });

  doc.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-select-all]")) return;
    var table = all.closest("table");
    Array.prototype.forEach.call(table.querySelectorAll("tr[data-row] input[type=checkbox]"), function (box) {
      box.checked = all.checked;
    });
  });
})();
