/* The top bar's as-you-type search (templates/base.html, crm/search/views.py `suggest`).
 *
 * htmx fetches /search/suggest/?q= into #global-search-results 150 ms after typing stops; this
 * file shows and hides that panel and makes it usable from the keyboard:
 *   ArrowDown / ArrowUp   move from the box into the results and through them (Home / End too)
 *   Enter                 opens the focused result (it is a link); in the box: the full results page
 *   Escape                closes the results and returns to the box
 * No inline script (CSP script-src 'self'); loaded by base.html.
 */
(function () {
  "use strict";
  var doc = document;
  var dismissed = false; // Escape closed the results: focusing the box again does not reopen them

  function box() { return doc.querySelector("[data-global-search]"); }
  function panel() { return doc.querySelector("[data-search-results-panel]"); }
  function options() {
    var p = panel();
    return p ? Array.prototype.slice.call(p.querySelectorAll("[data-search-option]")) : [];
  }

  function setOpen(open) {
    var p = panel();
    var input = box();
    if (!p || !input) return;
    open = open && p.children.length > 0 && input.value.trim().length > 0;
    p.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) input.removeAttribute("aria-activedescendant");
  }

  function focusOption(index) {
    var list = options();
    if (!list.length) return;
    if (index < 0) { var input = box(); if (input) input.focus(); return; }
    var option = list[Math.min(index, list.length - 1)];
    list.forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    option.focus();
    var inputEl = box();
    if (inputEl && option.id) inputEl.setAttribute("aria-activedescendant", option.id);
  }

  // htmx swapped new results in: show them (or hide an empty answer)
  doc.addEventListener("htmx:afterSwap", function (event) {
    if (event.target === panel()) dismissed = false;
    if (event.target === panel()) setOpen(doc.activeElement === box() || panel().contains(doc.activeElement));
  });

  doc.addEventListener("input", function (event) {
    if (event.target === box()) dismissed = false;
    if (event.target === box() && !event.target.value.trim()) {
      var p = panel();
      if (p) p.innerHTML = "";
      setOpen(false);
    }
  });

  doc.addEventListener("focusin", function (event) {
    var p = panel();
    if (!p) return;
    if (event.target === box()) setOpen(!dismissed);
    else if (!p.contains(event.target)) setOpen(false);
  });

  doc.addEventListener("click", function (event) {
    var p = panel();
    if (p && !p.hidden && !p.contains(event.target) && event.target !== box()) setOpen(false);
  });

  doc.addEventListener("keydown", function (event) {
    var input = box();
    var p = panel();
    if (!input || !p || event.ctrlKey || event.metaKey || event.altKey) return;
    var list = options();
    var inBox = event.target === input;
    var at = list.indexOf(event.target);
    if (!inBox && at === -1) return;

    switch (event.key) {
      case "ArrowDown":
        if (!list.length) return;
        event.preventDefault();
        dismissed = false;
        setOpen(true);
        focusOption(inBox ? 0 : Math.min(at + 1, list.length - 1));
        break;
      case "ArrowUp":
        if (inBox) return;
        event.preventDefault();
        focusOption(at - 1);
        break;
      case "Home":
      case "End":
        if (inBox) return;
        event.preventDefault();
        focusOption(event.key === "Home" ? 0 : list.length - 1);
        break;
      case "Escape":
        if (p.hidden) return; // app.js: Escape in the box leaves it
        event.preventDefault();
        event.stopPropagation();
        setOpen(false);
        dismissed = true;
        input.focus();
        break;
      case "Enter":
        if (!inBox && event.target.getAttribute("aria-disabled") === "true") event.preventDefault();
        break;
      default:
        // typing while a result has focus goes on typing in the box
        if (!inBox && event.key.length === 1) input.focus();
    }
  }, true);
})();
