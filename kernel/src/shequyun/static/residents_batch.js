/* 批量操作 on the residents list: a 全选本页 box, the count of ticked residents read out as it
   changes, the tag menu only for the tag actions, and a message instead of a round trip when
   nothing is ticked. Without this script the form works as it is: the boxes are sent with it
   (form="batch") and the server answers every case. Texts come translated from the page. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-batch]");
  if (!form) return;
  var textNode = document.getElementById("batch-text");
  var T = textNode ? JSON.parse(textNode.getAttribute("data-texts")) : {};
  function t(key, n) { return (T[key] || key).replace("{n}", n); }
  var picks = Array.prototype.slice.call(document.querySelectorAll("input[data-batch-pick]"));
  var count = form.querySelector("[data-batch-count]");
  var help = form.querySelector("[data-batch-help]");
  var error = form.querySelector("[data-batch-error]");
  var action = form.querySelector("[data-batch-action]");
  var tagField = form.querySelector("[data-batch-tag]");
  var status = form.querySelector("[data-batch-status]");

  // 全选本页 sits in the bar, not the table's head: on a phone the head is not shown.
  var all = document.createElement("input");
  all.type = "checkbox";
  all.id = "batch-all";
  var allLabel = document.createElement("label");
  allLabel.className = "choice pick-all";
  allLabel.appendChild(all);
  allLabel.appendChild(document.createTextNode(t("全选本页")));
  status.insertBefore(allLabel, status.firstChild);

  function ticked() { return picks.filter(function (p) { return p.checked; }).length; }

  function update() {
    var n = ticked();
    count.hidden = false;
    count.textContent = t("已选 {n} 人", n);
    all.checked = n > 0 && n === picks.length;
    all.indeterminate = n > 0 && n < picks.length;
    if (n > 0) error.hidden = true;
    picks.forEach(function (p) {
      var row = p.closest("tr");
      if (row) row.classList.toggle("picked", p.checked);
    });
  }

  function showTag() {
    if (tagField && action) tagField.hidden = action.value === "export";
  }

  all.addEventListener("change", function () {
    picks.forEach(function (p) { p.checked = all.checked; });
    update();
  });
  picks.forEach(function (p) { p.addEventListener("change", update); });
  if (action) action.addEventListener("change", showTag);
  form.addEventListener("submit", function (event) {
    if (ticked() === 0) {
      event.preventDefault();
      error.hidden = false;
      error.textContent = t("请先勾选至少一位居民。");
      error.setAttribute("tabindex", "-1");
      error.focus();
    }
  });
  if (help) help.hidden = false;
  showTag();
  update();
})();
