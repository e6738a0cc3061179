// The form builder without page loads: its steps (add, move, remove a question) post the
// builder in the background and redraw it, typing redraws the preview after a pause. Without
// JavaScript the same buttons post the page and it comes back drawn anew.
(function () {
  "use strict";
  var timer = null;
  var previewing = null;
  var drawing = null;

  function post(form, op, mode, controller) {
    var data = new FormData(form);
    data.set("op", op);
    return fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { "X-Builder": mode },
      credentials: "same-origin",
      signal: controller.signal
    }).then(function (response) { return response.text(); });
  }

  function bindPreview() {
    var preview = document.querySelector("#builder-preview form[data-preview]");
    if (!preview) return;
    preview.addEventListener("submit", function (event) { event.preventDefault(); });
    if (window.shequyunBindConditions) window.shequyunBindConditions(preview);
  }

  function refreshPreview(form) {
    if (drawing) return;  // the redraw brings a fresh preview
    if (previewing) previewing.abort();
    previewing = new AbortController();
    post(form, "refresh", "preview", previewing).then(function (html) {
      document.getElementById("builder-preview").innerHTML = html;
      bindPreview();
    }).catch(function () {});
  }

  function redraw(form, op) {
    clearTimeout(timer);
    if (previewing) previewing.abort();
    if (drawing) drawing.abort();
    var controller = drawing = new AbortController();
    post(form, op, "page", controller).then(function (html) {
      if (drawing === controller) drawing = null;
      // What the clerk typed while the page was away is kept, where they are typing.
      var active = document.activeElement;
      var activeId = active && active.id;
      var typed = active && "value" in active ? active.value : null;
      var page = new DOMParser().parseFromString(html, "text/html");
      ["builder-form", "builder-preview", "builder-json"].forEach(function (id) {
        var fresh = page.getElementById(id);
        var old = document.getElementById(id);
        if (fresh && old) old.innerHTML = fresh.innerHTML;
      });
      var summary = document.getElementById("error-summary");
      if (summary) summary.remove();
      var focus = page.getElementById("builder-form").getAttribute("data-focus");
      bind(form);
      bindPreview();
      if (op !== "refresh" && focus) {
        var item = document.getElementById(focus);
        if (item) {
          item.scrollIntoView({ block: "center" });
          var label = item.querySelector("input[name$='-label']");
          if (label) label.focus({ preventScroll: true });
        }
      } else if (activeId && document.getElementById(activeId)) {
        var again = document.getElementById(activeId);
        if (typed !== null && again.type !== "checkbox" && again.tagName !== "SELECT") again.value = typed;
        again.focus({ preventScroll: true });
      }
    }).catch(function () { if (drawing === controller) drawing = null; });
  }

  function toggleAnswers(select) {
    var box = select.closest(".q-condition");
    box.querySelectorAll("[data-for]").forEach(function (set) {
      set.hidden = set.getAttribute("data-for") !== select.value;
    });
  }

  function bind(form) {
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    form.querySelectorAll("select[data-refresh]").forEach(function (select) {
      select.addEventListener("change", function () { redraw(form, "refresh"); });
    });
    form.querySelectorAll("select[data-condition]").forEach(function (select) {
      select.addEventListener("change", function () { toggleAnswers(select); });
    });
    form.querySelectorAll("textarea[data-refresh-on-blur]").forEach(function (area) {
      area.addEventListener("change", function () { redraw(form, "refresh"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("builder-form");
    if (!form || !window.fetch || !window.DOMParser) return;
    bind(form);
    bindPreview();
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      var op = button && button.name === "op" ? button.value : "refresh";
      if (op === "save") return;
      event.preventDefault();
      redraw(form, op);
    });
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { refreshPreview(form); }, 500);
    });
  });
})();
