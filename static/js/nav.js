// The account navigation's drop-down menus (templates/accounts/_account_nav.html) are
// <details> elements, which work without this file; it only closes an open one when the user
// clicks elsewhere or presses Escape, as menus do.
// The page's few behaviours live here, not in inline handlers, which the Content-Security-Policy
// refuses: a select marked data-submit-on-change submits its form; the account switcher
// (data-go-to-choice) opens the account chosen. Both forms have a button without JavaScript.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-submit-on-change]") && target.form) {
      target.form.submit();
      return;
    }
    var form = target.form;
    if (form && form.hasAttribute("data-go-to-choice") && target.value) {
      window.location = target.value;
    }
  });
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
