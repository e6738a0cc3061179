// Collection forms: hide the fields whose visible_if condition is not met while filling in,
// warn before sending files over the size limits (the server would refuse the whole page),
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
  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }
  function checkFiles(form, event) {
    var maxFile = Number(form.getAttribute("data-max-file"));
    var maxBody = Number(form.getAttribute("data-max-body"));
    var total = 0, problem = null;
    form.querySelectorAll(".file-warning").forEach(function (p) { p.remove(); });
    form.querySelectorAll('input[type="file"]').forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        total += file.size;
        if (file.size > maxFile && !problem) {
          problem = [input, file.name + " 有 " + megabytes(file.size) + "，每个文件不能超过 " + megabytes(maxFile)];
        }
      });
    });
    if (!problem && total > maxBody - 65536) {
      var last = form.querySelectorAll('input[type="file"]');
      problem = [last[last.length - 1], "选中的文件合计 " + megabytes(total) + "，每次保存不能超过 " + megabytes(maxBody) + "：请先保存草稿，再分次添加"];
    }
    if (!problem) return;
    event.preventDefault();
    var note = document.createElement("p");
    note.className = "file-warning";
    note.setAttribute("role", "alert");
    note.textContent = problem[1];
    problem[0].insertAdjacentElement("afterend", note);
    problem[0].focus();
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
  function bindConditions(form) {
    if (!form.querySelector("[data-show-field]") || form.hasAttribute("data-conditions")) return;
    form.setAttribute("data-conditions", "");
    form.addEventListener("change", function () { update(form); });
    update(form);
  }
  // The form builder redraws its preview and binds the new one's conditions through this.
  window.shequyunBindConditions = bindConditions;
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-max-body]").forEach(function (form) {
      form.addEventListener("submit", function (event) { checkFiles(form, event); });
    });
    document.querySelectorAll("form").forEach(bindConditions);
    var filter = document.querySelector(".target-filter");
    if (filter) {
      filter.hidden = false;
      filter.addEventListener("input", function () { filterTargets(filter); });
    }
  });
})();
