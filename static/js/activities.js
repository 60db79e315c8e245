/* Activities: complete a task with one key.
   A task row is focusable ([data-task], tabindex="0"); pressing `x` while it (or anything inside it
   that is not a text field) has focus clicks its [data-task-complete] button, which posts by htmx and
   swaps the row. Focus then stays on the swapped row, so `x` twice is harmless (the server side is
   idempotent too). No inline handlers: the CSP forbids them. */
(function () {
  "use strict";
  var doc = document;

  function isTyping(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "x" && event.key !== "X") return;
    var target = event.target;
    if (isTyping(target) || !target.closest) return;
    var row = target.closest("[data-task]");
    if (!row) return;
    var button = row.querySelector("[data-task-complete]");
    if (!button || button.disabled) return;
    event.preventDefault();
    var id = row.id;
    button.click();
    if (id) {
      doc.addEventListener("htmx:afterSwap", function refocus() {
        doc.removeEventListener("htmx:afterSwap", refocus);
        var swapped = doc.getElementById(id);
        if (swapped) swapped.focus();
      });
    }
  });
})();
