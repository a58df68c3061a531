/*
 * Small layout enhancements; every page works without them.
 * - <details data-fold-narrow> (the roadmap's table of contents) is open in the
 *   markup, so it shows without JavaScript; on a narrow screen fold it, so the
 *   stages come first.
 * - A form's error summary takes focus, so it is read out first and Tab leads
 *   on to the links to each field in error.
 */
(function () {
  "use strict";

  if (window.matchMedia && window.matchMedia("(max-width: 991.98px)").matches) {
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      details.open = false;
    });
  }

  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
