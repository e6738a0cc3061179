// Collection forms: hide the fields whose visible_if condition is not met while filling in,
// and filter the unit list of the campaign builder. The pages work the same without this.
(function () {
  "use strict";
  function valuesOf(form, name) {
    var found = [];
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      if (input.value !== "") found.push(input.value);
    });
    return found;
  }
  function update(form) {
    form.querySelectorAll("[data-show-field]").forEach(function (box) {
      var wanted = JSON.parse(box.getAttribute("data-show-values") || "[]");
      var current = valuesOf(form, box.getAttribute("data-show-field"));
      box.hidden = !current.some(function (v) { return wanted.indexOf(v) >= 0; });
    });
  }
  function filterTargets(input) {
    var words = input.value.trim();
    document.querySelectorAll(".target-tree > li").forEach(function (item) {
      var text = item.textContent;
      var match = !words || text.indexOf(words) >= 0;
      item.hidden = !match;
      var details = item.querySelector("details");
      if (details && words && match) details.open = true;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-show-field]")) return;
      form.addEventListener("change", function () { update(form); });
      update(form);
    });
    var filter = document.querySelector(".target-filter");
    if (filter) {
      filter.hidden = false;
      filter.addEventListener("input", function () { filterTargets(filter); });
    }
  });
})();
