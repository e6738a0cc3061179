// The portal shell's scripts: the menu on a phone, and the focus of a form sent back with errors.
(function () {
  "use strict";

  // A form sent back with errors: the focus starts on its summary (which reads out the list),
  // or, where a page has no summary, on the first field marked invalid, so a keyboard or
  // screen-reader user lands on what to fix instead of at the top of the page. A summary's
  // links put the focus in their field (following the link alone only scrolls to it).
  const summary = document.querySelector(".error-summary");
  const invalid = document.querySelector("main [aria-invalid=true]");
  if (summary) {
    if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
    summary.focus();
    summary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      const target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      // A group (a fieldset of checkboxes) takes the focus on its first choice, past any
      // search box that helps to find one.
      const field = target.matches("fieldset")
        ? target.querySelector("input[type=checkbox], input[type=radio]") ||
          target.querySelector("input:not([type=hidden]), select, textarea") ||
          target
        : target;
      event.preventDefault();
      const label = field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`);
      (label || target).scrollIntoView({ block: "start" });
      field.focus({ preventScroll: true });
    });
  } else if (invalid) {
    invalid.focus();
  }

  // The menu on a phone: the navigation and the account area fold behind one button, so a
  // page's own content starts near the top of a 390 px screen. Without this script the button
  // stays hidden and everything shows, as on a wide screen.
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
