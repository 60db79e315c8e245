/* Settings → Access pages (task A). No inline script: the CSP allows only files like this one.

   input[data-filter-list="<id>"]  typing narrows the checkbox list #<id> to the items
                                   ([data-filter-item]) whose text contains what was typed
                                   (ticked items always stay, so nothing chosen disappears);
                                   [data-filter-count="<id>"] says how many are ticked.
   select[data-criteria-field="<id>"]  a sharing rule's condition: choosing a picklist field makes
                                   the value box #<id> suggest its values (datalist#choices-<field>).
   form[data-rule-form]            shows only the part of a sharing rule its kind uses
                                   ([data-kind-section="owner" | "criteria"]; without script both show). */
(function () {
  "use strict";
  var doc = document;

  function fold(text) {
    return (text || "").toLocaleLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function update(list) {
    var counter = doc.querySelector('[data-filter-count="' + list.id + '"]');
    if (!counter) return;
    var ticked = list.querySelectorAll("input[type=checkbox]:checked").length;
    counter.textContent = ticked + " chosen";
  }

  function narrow(box) {
    var list = doc.getElementById(box.getAttribute("data-filter-list"));
    if (!list) return;
    var wanted = fold(box.value.trim());
    Array.prototype.forEach.call(list.querySelectorAll("[data-filter-item]"), function (item) {
      var ticked = item.querySelector("input:checked");
      item.hidden = !!wanted && !ticked && fold(item.textContent).indexOf(wanted) === -1;
    });
  }

  doc.addEventListener("input", function (event) {
    var box = event.target.closest ? event.target.closest("input[data-filter-list]") : null;
    if (box) narrow(box);
  });

  doc.addEventListener("keydown", function (event) {
    // Enter in a filter box narrows the list; it must not submit the whole form
    if (event.key === "Enter" && event.target.matches && event.target.matches("input[data-filter-list]")) {
      event.preventDefault();
    }
  });

  function showKind(form) {
    var chosen = form.querySelector("input[name=kind]:checked");
    if (!chosen) return;
    Array.prototype.forEach.call(form.querySelectorAll("[data-kind-section]"), function (section) {
      section.hidden = section.getAttribute("data-kind-section") !== chosen.value;
    });
  }

  doc.addEventListener("change", function (event) {
    var ruleForm = event.target.name === "kind" && event.target.closest ? event.target.closest("form[data-rule-form]") : null;
    if (ruleForm) showKind(ruleForm);
    var field = event.target.closest ? event.target.closest("select[data-criteria-field]") : null;
    if (field) {
      var box = doc.getElementById(field.getAttribute("data-criteria-field"));
      if (box) {
        if (doc.getElementById("choices-" + field.value)) box.setAttribute("list", "choices-" + field.value);
        else box.removeAttribute("list");
      }
    }
    var list = event.target.closest ? event.target.closest("[data-filter-items]") : null;
    if (list) update(list);
  });

  doc.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(doc.querySelectorAll("[data-filter-items]"), update);
    // what was typed before this script ran (a quick typist, a restored form) narrows too
    Array.prototype.forEach.call(doc.querySelectorAll("input[data-filter-list]"), function (box) {
      if (box.value) narrow(box);
    });
    Array.prototype.forEach.call(doc.querySelectorAll("form[data-rule-form]"), showKind);
  });
})();
