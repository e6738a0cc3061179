// 大屏: reload every data-refresh seconds, unless someone paused it. A meta refresh could not be
// paused (WCAG 2.2.1): a person reading the wall with a screen reader or a magnifier lost their
// place every few minutes. The pause is remembered for this tab only.
(function () {
  "use strict";
  var KEY = "shequyun.wall.paused";
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var seconds = parseInt(body.getAttribute("data-refresh"), 10);
    var button = document.querySelector(".wall-pause");
    if (!seconds || !button) return;
    var timer = null;
    function paused() {
      try { return sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
    }
    function show() {
      var on = paused();
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? button.getAttribute("data-resume") : button.getAttribute("data-pause");
      if (timer) clearTimeout(timer);
      timer = on ? null : setTimeout(function () { window.location.reload(); }, seconds * 1000);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      try { sessionStorage.setItem(KEY, paused() ? "0" : "1"); } catch (e) { /* private mode */ }
      show();
    });
    show();
  });
})();
