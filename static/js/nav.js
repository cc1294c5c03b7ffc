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
  // A replacement the counter offers (typographic characters, accents) comes back as the
  // message box, out of band, made from the text the box held when the button was pressed.
  // Keys typed while the answer was on its way (before their own count was sent) would be
  // lost under it: the answer applies only if the box still holds that text; otherwise the
  // box keeps what was typed and is counted again.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var box = detail.target;
    var answer = detail.fragment && detail.fragment.querySelector("[data-replaced-from]");
    if (!answer || !box || box.id !== answer.id) return;
    var made = answer.getAttribute("data-replaced-from").replace(/\r\n?/g, "\n");
    if (box.value.replace(/\r\n?/g, "\n") === made) return;
    detail.shouldSwap = false;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
})();
