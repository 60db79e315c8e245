/* Typeaheads (templates/components/picker.html): a text box that looks up its options on the
 * server as you type, for lists too long to render as a <select> (a company's people, countries).
 *
 *   typing              fetches data-picker-url?q=<text> 150 ms after the last key (≤ ~20 options)
 *   ArrowDown / Up      open the options and move through them (the focus stays in the box;
 *                       aria-activedescendant names the active option); Home / End too
 *   Enter               picks the active option (and does not submit the form while open)
 *   Escape              closes the options (a second Escape leaves the box to the page)
 *   clearing the box    clears the value; leaving the box with text that was not picked puts the
 *                       last picked label back, so the form never sends a half-typed name
 * Works for pickers added later (htmx swaps): everything is delegated from the document.
 * No inline script (CSP script-src 'self').
 */
(function () {
  "use strict";
  var doc = document;
  var DELAY = 150;
  var seq = 0;

  function parts(el) {
    var root = el && el.closest ? el.closest("[data-picker]") : null;
    if (!root) return null;
    return {
      root: root,
      input: root.querySelector("[data-picker-input]"),
      value: root.querySelector("[data-picker-value]"),
      list: root.querySelector("[data-picker-options]"),
    };
  }

  function options(p) { return Array.prototype.slice.call(p.list.querySelectorAll("[role=option]")); }

  function setOpen(p, open) {
    open = open && p.list.children.length > 0;
    p.list.hidden = !open;
    p.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) p.input.removeAttribute("aria-activedescendant");
  }

  function activate(p, index) {
    var list = options(p);
    if (!list.length) return;
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    p.input.setAttribute("aria-activedescendant", list[index].id);
    list[index].scrollIntoView({ block: "nearest" });
  }

  function activeIndex(p) {
    var id = p.input.getAttribute("aria-activedescendant");
    return options(p).findIndex(function (o) { return o.id === id; });
  }

  function choose(p, option) {
    p.value.value = option.getAttribute("data-value");
    p.input.value = option.getAttribute("data-label");
    p.root.setAttribute("data-picked-label", p.input.value);
    setOpen(p, false);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function render(p, results) {
    p.list.textContent = "";
    if (!results.length) {
      var none = doc.createElement("span");
      none.className = "menu-label";
      none.textContent = "No match";
      p.list.appendChild(none);
    }
    results.forEach(function (r, i) {
      var o = doc.createElement("span");
      o.className = "menu-item picker-option";
      o.id = p.input.id + "-option-" + i;
      o.setAttribute("role", "option");
      o.setAttribute("aria-selected", "false");
      o.setAttribute("data-value", r.value);
      o.setAttribute("data-label", r.label);
      var text = doc.createElement("span");
      text.className = "menu-item-text";
      var name = doc.createElement("span");
      name.textContent = r.label;
      text.appendChild(name);
      if (r.detail && r.detail !== r.label) {
        var detail = doc.createElement("small");
        detail.textContent = r.detail;
        text.appendChild(detail);
      }
      o.appendChild(text);
      p.list.appendChild(o);
    });
    setOpen(p, doc.activeElement === p.input);
    if (results.length) activate(p, 0);
  }

  function lookup(p) {
    var mine = ++seq;
    p.root.setAttribute("data-seq", String(mine));
    var url = p.root.getAttribute("data-picker-url") + "?q=" + encodeURIComponent(p.input.value.trim());
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) {
        if (p.root.getAttribute("data-seq") === String(mine)) render(p, body.results || []);
      })
      .catch(function () { /* offline or signed out: keep what is shown */ });
  }

  var timers = new WeakMap();
  function schedule(p) {
    clearTimeout(timers.get(p.root));
    timers.set(p.root, setTimeout(function () { lookup(p); }, DELAY));
  }

  doc.addEventListener("input", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    if (!event.target.value.trim()) p.value.value = "";
    schedule(p);
  });

  doc.addEventListener("focusin", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    if (!p.root.hasAttribute("data-picked-label")) p.root.setAttribute("data-picked-label", p.input.value);
  });

  doc.addEventListener("focusout", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    // let a click on an option land first
    setTimeout(function () {
      if (doc.activeElement === p.input) return;
      setOpen(p, false);
      if (!p.input.value.trim()) { p.value.value = ""; p.root.setAttribute("data-picked-label", ""); }
      else p.input.value = p.root.getAttribute("data-picked-label") || "";
    }, 150);
  });

  doc.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("[data-picker] [role=option]");
    if (!option) return;
    event.preventDefault(); // keep the focus in the box
    choose(parts(option), option);
  });

  doc.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var p = parts(event.target);
    var open = !p.list.hidden;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) {
          if (p.list.children.length) { setOpen(p, true); activate(p, 0); } else lookup(p);
        } else activate(p, activeIndex(p) + 1);
        break;
      case "ArrowUp":
        if (!open) return;
        event.preventDefault();
        activate(p, activeIndex(p) - 1);
        break;
      case "Home":
      case "End":
        if (!open) return;
        event.preventDefault();
        activate(p, event.key === "Home" ? 0 : options(p).length - 1);
        break;
      case "Enter": {
        if (!open) return;
        var list = options(p);
        var at = activeIndex(p);
        event.preventDefault();
        if (at >= 0) choose(p, list[at]);
        break;
      }
      case "Escape":
        if (!open) return;
        event.preventDefault();
        event.stopPropagation();
        setOpen(p, false);
        break;
    }
  });
})();
