// The account navigation's drop-down menus (templates/accounts/_account_nav.html) are
// <details> elements, which work without this file; it only closes an open one when the user
// clicks elsewhere or presses Escape, as menus do.
(function () {
  "use strict";
  function openMenus() {
    return document.querySelectorAll(".nav-dropdown[open]");
  }
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
})();
