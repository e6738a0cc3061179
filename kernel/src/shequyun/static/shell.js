// The portal shell's menu on a phone: the navigation and the account area fold behind one
// button, so a page's own content starts near the top of a 390 px screen. Without this script
// the button stays hidden and everything shows, as on a wide screen.
(function () {
  "use strict";
  const header = document.querySelector(".shell-header");
  const toggle = header && header.querySelector(".menu-toggle");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!menu) return;

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  }

  toggle.hidden = false;
  header.classList.add("menu-ready");
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  // Escape closes an open menu and puts the focus back on its button.
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.classList.contains("open")) {
      setOpen(false);
      toggle.focus();
    }
  });
})();
