/* The app shell's behaviour. No inline scripts anywhere (CSP: script-src 'self'), so everything a
   page needs is wired here by data attributes, with event delegation so that content swapped in
   by htmx works without re-initialising anything.

   data-global-search      the search box: `/` focuses it
   data-shortcut-new       the page's primary "new" action: `n` follows/clicks it
   data-modal-open="id"    opens <dialog id="id">; data-modal-close inside a dialog closes it
   data-menu               <details> menus: close on outside click / Escape, arrow-key navigation
   data-sidebar-toggle     opens/closes the navigation drawer (tablet and phone widths)
   data-toast              a toast: auto-dismissed (errors stay), data-toast-close dismisses
   data-confirm="text"     on a form or button: ask before submitting
   data-copy="text"        a button that copies text (or data-copy-target="id": that input's value / element's text)
   CRM.toast(message, level) shows a toast; an htmx response can trigger one with the header
   HX-Trigger: {"toast": {"message": "Saved", "level": "success"}}
*/
(function () {
  "use strict";

  var doc = document;
  var root = doc.documentElement;

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function visible(el) {
    return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  }

  // --- htmx: CSRF header, loading bar, errors as toasts ------------------------------------
  doc.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  var inFlight = 0;
  doc.addEventListener("htmx:beforeRequest", function () {
    inFlight += 1;
    doc.body.classList.add("is-loading");
  });
  doc.addEventListener("htmx:afterRequest", function () {
    inFlight = Math.max(0, inFlight - 1);
    if (!inFlight) doc.body.classList.remove("is-loading");
  });
  doc.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var message = status === 403 ? "You don't have access to do that."
      : status === 404 ? "That record no longer exists."
      : status === 429 ? "Too many requests. Wait a moment and try again."
      : "Something went wrong on our side. Try again in a moment.";
    toast(message, "error");
  });
  doc.addEventListener("htmx:sendError", function () {
    toast("We couldn't reach the server. Check your connection and try again.", "error");
  });
  doc.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    if (detail.message) toast(detail.message, detail.level || "info");
  });

  // --- Toasts ------------------------------------------------------------------------------
  var TOAST_MS = { success: 5000, info: 6000, warning: 9000 };

  function dismiss(el) {
    if (!el || el.classList.contains("is-leaving")) return;
    el.classList.add("is-leaving");
    window.setTimeout(function () { el.remove(); }, 200);
  }

  function levelOf(el) {
    var m = /toast-(success|error|warning|info)/.exec(el.className);
    return m ? m[1] : "info";
  }

  function schedule(el) {
    if (el.dataset.toastScheduled) return;
    el.dataset.toastScheduled = "1";
    var ms = TOAST_MS[levelOf(el)];
    if (!ms) return; // errors stay until dismissed
    var timer = null;
    var start = function () { timer = window.setTimeout(function () { dismiss(el); }, ms); };
    var stop = function () { window.clearTimeout(timer); };
    el.addEventListener("mouseenter", stop);
    el.addEventListener("focusin", stop);
    el.addEventListener("mouseleave", start);
    el.addEventListener("focusout", start);
    start();
  }

  function toast(message, level) {
    level = ["success", "error", "warning", "info"].indexOf(level) >= 0 ? level : "info";
    var region = doc.querySelector("[data-toasts]");
    var template = doc.getElementById("toast-template");
    if (!region || !template) return;
    var el = template.content.firstElementChild.cloneNode(true);
    el.classList.add("toast-" + level);
    if (level === "error") el.setAttribute("role", "alert");
    el.querySelector("[data-toast-message]").textContent = message;
    var icons = doc.getElementById("toast-icons");
    var icon = icons && icons.content.querySelector('[data-level="' + level + '"] svg');
    if (icon) el.querySelector("[data-toast-icon]").appendChild(icon.cloneNode(true));
    region.appendChild(el);
    schedule(el);
  }

  // --- Menus (<details data-menu>) -------------------------------------------------------
  function openMenus() { return doc.querySelectorAll("details[data-menu][open]"); }

  function closeMenus(except) {
    openMenus().forEach(function (d) { if (d !== except) d.open = false; });
  }

  function menuItems(menu) {
    return Array.prototype.filter.call(
      menu.querySelectorAll(".menu-panel a, .menu-panel button"), visible);
  }

  doc.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.hasAttribute("data-menu")) return;
    if (menu.open) closeMenus(menu);
  }, true);

  doc.addEventListener("click", function (event) {
    if (!event.target.closest("details[data-menu]")) closeMenus(null);
  });

  doc.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest("details[data-menu][open]");
    if (!menu) return;
    var items = menuItems(menu);
    var index = items.indexOf(doc.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!items.length) return;
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (index < 0) next = event.key === "ArrowDown" ? 0 : items.length - 1;
      items[(next + items.length) % items.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      menu.open = false;
      menu.querySelector("summary").focus();
    } else if (event.key === "Tab" && index === items.length - 1 && !event.shiftKey) {
      menu.open = false;
    }
  });

  // --- Sidebar drawer (tablet / phone) ---------------------------------------------------
  function app() { return doc.querySelector("[data-app]"); }

  function setSidebar(open) {
    var shell = app();
    if (!shell) return;
    shell.classList.toggle("sidebar-open", open);
    doc.querySelectorAll("[data-sidebar-toggle]").forEach(function (b) {
      b.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      var first = doc.querySelector("#sidebar .nav-link[aria-current='page']") || doc.querySelector("#sidebar .nav-link");
      if (first) first.focus();
    }
  }

  function sidebarOpen() {
    var shell = app();
    return !!(shell && shell.classList.contains("sidebar-open"));
  }

  function sidebarIsDrawer() {
    var toggle = doc.querySelector("[data-sidebar-toggle]");
    return visible(toggle);
  }

  doc.addEventListener("click", function (event) {
    if (event.target.closest("[data-sidebar-toggle]")) {
      setSidebar(!sidebarOpen());
    } else if (event.target.closest("[data-sidebar-close]")) {
      setSidebar(false);
    }
  });
  window.addEventListener("resize", function () {
    if (sidebarOpen() && !sidebarIsDrawer()) setSidebar(false);
  });

  // --- Modals (<dialog>) ------------------------------------------------------------------
  function openModal(id, opener) {
    var dialog = doc.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function" || dialog.open) return;
    closeMenus(null);
    dialog._opener = opener || doc.activeElement;
    dialog.showModal();
  }

  doc.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-modal-open]");
    if (opener) {
      event.preventDefault();
      openModal(opener.getAttribute("data-modal-open"), opener);
      return;
    }
    var closer = event.target.closest("[data-modal-close]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    // a click on the backdrop (the dialog element itself, outside its box) closes it
    if (event.target instanceof HTMLDialogElement && event.target.open) {
      var r = event.target.getBoundingClientRect();
      var inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
      if (!inside) event.target.close();
    }
  });

  doc.addEventListener("close", function (event) {
    var dialog = event.target;
    // browsers return focus to the opener themselves; this only covers those that leave it on <body>
    if (dialog instanceof HTMLDialogElement && dialog._opener && doc.contains(dialog._opener)) {
      if (!doc.activeElement || doc.activeElement === doc.body) dialog._opener.focus({ preventScroll: true });
      dialog._opener = null;
    }
  }, true);

  // --- Toast close, confirm, copy ---------------------------------------------------------
  doc.addEventListener("click", function (event) {
    var close = event.target.closest("[data-toast-close]");
    if (close) dismiss(close.closest("[data-toast]"));

    var confirmer = event.target.closest("button[data-confirm], a[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }

    if (event.target.closest("[data-search-focus]")) {
      var box = doc.querySelector("[data-global-search]");
      if (box) box.focus();
    }

    var copy = event.target.closest("[data-copy], [data-copy-target]");
    if (copy) {
      var target = copy.getAttribute("data-copy-target");
      var source = null;
      if (target) {
        source = doc.getElementById(target.replace(/^#/, ""));
        if (!source) { try { source = doc.querySelector(target); } catch (e) { source = null; } }
      }
      var text = target ? (source ? (source.value !== undefined ? source.value : source.textContent) : "")
        : copy.getAttribute("data-copy");
      if (text && navigator.clipboard) {
        navigator.clipboard.writeText(text.trim()).then(function () { toast("Copied to the clipboard.", "success"); });
      }
    }
  }, true);

  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  }, true);

  // --- Keyboard shortcuts -----------------------------------------------------------------
  var pendingG = 0;

  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;

    if (event.key === "Escape") {
      if (target.matches && target.matches("[data-global-search]")) {
        target.blur();
        return;
      }
      if (openMenus().length) { closeMenus(null); return; }
      if (sidebarOpen()) {
        setSidebar(false);
        var toggle = doc.querySelector("[data-sidebar-toggle]");
        if (toggle) toggle.focus();
      }
      return;
    }
    if (isTyping(target) || doc.querySelector("dialog[open]")) return;

    if (pendingG && Date.now() - pendingG < 1200) {
      pendingG = 0;
      if (event.key === "h") {
        var home = doc.querySelector(".brand");
        if (home) { event.preventDefault(); window.location.assign(home.href); }
      }
      return;
    }

    switch (event.key) {
      case "/": {
        var search = doc.querySelector("[data-global-search]");
        if (search && visible(search)) {
          event.preventDefault();
          search.focus();
          search.select();
        }
        break;
      }
      case "n":
      case "N": {
        var primary = Array.prototype.find.call(doc.querySelectorAll("[data-shortcut-new]"), visible);
        if (primary) {
          event.preventDefault();
          primary.click();
        }
        break;
      }
      case "?":
        if (doc.getElementById("shortcuts")) {
          event.preventDefault();
          openModal("shortcuts", target);
        }
        break;
      case "[":
        if (sidebarIsDrawer()) {
          event.preventDefault();
          setSidebar(!sidebarOpen());
        }
        break;
      case "g":
        pendingG = Date.now();
        break;
    }
  });

  // --- Start-up ---------------------------------------------------------------------------
  function start(scope) {
    (scope || doc).querySelectorAll("[data-toast]").forEach(schedule);
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", function () { start(); });
  else start();
  doc.addEventListener("htmx:load", function (event) { start(event.target); });

  // --- Alpine (CSP build): components are registered here, never written inline ----------
  doc.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;
    // x-data="toggle": a disclosure. <button @click="toggle" :aria-expanded="open">…<div x-show="open">
    Alpine.data("toggle", function () {
      return {
        open: false,
        toggle: function () { this.open = !this.open; },
        close: function () { this.open = false; },
      };
    });
  });

  root.classList.add("js");
  window.CRM = { toast: toast, openModal: openModal };
})();
