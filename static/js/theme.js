/*
 * Colour theme. Loaded in <head> without `defer` so the theme is applied
 * before the first paint (no flash of the wrong theme), and from a file, so a
 * Content-Security-Policy without 'unsafe-inline' allows it.
 *
 * The choice lives in the `theme` cookie ("auto", "light" or "dark"), which the
 * server also reads: the theme forms are real POSTs that work without this
 * script. Here they switch instantly instead, and "auto" follows the
 * operating system's prefers-color-scheme, live.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  root.classList.remove("no-js");
  root.classList.add("js");

  function preference() {
    var match = document.cookie.match(/(?:^|;\s*)theme=(auto|light|dark)(?:;|$)/);
    return match ? match[1] : "auto";
  }

  function effective(choice) {
    if (choice === "auto") return dark && dark.matches ? "dark" : "light";
    return choice;
  }

  function syncControls(choice) {
    var current = effective(choice);
    var other = current === "dark" ? "light" : "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.value = other;
      var label = button.querySelector("[data-theme-toggle-label]");
      if (label) label.textContent = "Switch to " + other + " theme";
    });
    document.querySelectorAll("[data-theme-choice]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.value === choice ? "true" : "false");
    });
  }

  function apply(choice) {
    root.setAttribute("data-bs-theme", effective(choice));
    root.setAttribute("data-theme-preference", choice);
    if (document.readyState !== "loading") syncControls(choice);
  }

  function save(choice) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "theme=" + choice + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }

  apply(preference());

  if (dark) {
    var follow = function () {
      if (preference() === "auto") apply("auto");
    };
    if (dark.addEventListener) dark.addEventListener("change", follow);
    else if (dark.addListener) dark.addListener(follow);
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncControls(preference());
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("[data-theme-form]")) return;
      var button = event.submitter;
      if (!button || ["auto", "light", "dark"].indexOf(button.value) < 0) return;
      event.preventDefault();
      save(button.value);
      apply(button.value);
    });
  });
})();
