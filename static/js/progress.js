/*
 * Progress controls, enhanced. Without this script every control is a plain
 * form POST that redirects back with a message; with it, the same POST is sent
 * with fetch, and the control, the status badge and every progress bar on the
 * page update in place. The change is announced in the polite live region.
 */
(function () {
  "use strict";

  var form = document.getElementById("progress-form");
  if (!form || !window.fetch || !window.FormData) return;

  var STATUS = {
    done: ["✓", "Done"],
    in_progress: ["◐", "In progress"],
    skipped: ["↷", "Skipped"],
    not_started: ["○", "Not started"]
  };
  var pending = {};
  var queued = {};

  function announce(text, kind) {
    var region = document.querySelector("[data-messages]");
    if (!region) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-" + kind;
    alert.textContent = text;
    region.replaceChildren(alert);
  }

  function updateBadge(badge, status) {
    var icon = document.createElement("span");
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = STATUS[status][0];
    badge.className = "status-badge status-" + status;
    badge.replaceChildren(icon, document.createTextNode(" " + STATUS[status][1]));
  }

  function updateTopic(topicId, status) {
    document.querySelectorAll('[data-topic="' + topicId + '"]').forEach(function (control) {
      if (control.getAttribute("role") === "checkbox") {
        control.setAttribute("aria-checked", String(status === "done"));
        control.value = status === "done" ? "not_started" : "done";
      } else {
        control.querySelectorAll("button[aria-pressed]").forEach(function (button) {
          var on = button.value === status;
          button.setAttribute("aria-pressed", String(on));
          button.classList.toggle("active", on);
        });
      }
    });
    var container = document.getElementById("t" + topicId);
    if (!container) return;
    container.dataset.status = status;
    container.querySelectorAll("[data-status-badge]").forEach(function (badge) {
      updateBadge(badge, status);
    });
    container.querySelectorAll(".updated-mark").forEach(function (mark) {
      mark.remove();
    });
  }

  function updateBars(progress) {
    Object.keys(progress).forEach(function (key) {
      var summary = progress[key];
      document.querySelectorAll('[data-progress="' + key + '"]').forEach(function (block) {
        var bar = block.querySelector('[role="progressbar"]');
        bar.setAttribute("aria-valuenow", String(summary.percent));
        bar.setAttribute("aria-valuetext", summary.percent + "% · " + summary.label);
        var fill = bar.querySelector(".progress-bar");
        fill.className = fill.className.replace(/\bpct-\d+\b/, "pct-" + summary.percent);
        block.querySelector(".progress-percent").textContent = summary.percent + "%";
        block.querySelector(".progress-label").textContent = summary.label;
      });
      // The roadmap page's table of contents ("3/5" or ✓) and its "only what's left" count.
      document.querySelectorAll('[data-progress-count="' + key + '"]').forEach(function (count) {
        count.classList.toggle("is-complete", summary.is_complete);
        count.replaceChildren(
          summary.is_complete ? hidden("✓", true) : document.createTextNode(summary.finished + "/" + summary.total),
          hidden(summary.is_complete ? ", finished" : " finished")
        );
      });
      document.querySelectorAll('[data-progress-left="' + key + '"]').forEach(function (count) {
        count.replaceChildren(document.createTextNode(String(summary.left)), hidden(" topics"));
      });
    });
  }

  // A span hidden from sight (visually-hidden) or, with ariaHidden, from assistive technology.
  function hidden(text, ariaHidden) {
    var span = document.createElement("span");
    if (ariaHidden) span.setAttribute("aria-hidden", "true");
    else span.className = "visually-hidden";
    span.textContent = text;
    return span;
  }

  function send(button) {
    var key = button.formAction;
    pending[key] = true;
    var body = new FormData(form);
    body.set(button.name, button.value);
    fetch(button.formAction, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) {
            updateTopic(data.topic, data.status);
            updateBars(data.progress);
            announce(data.message, "success");
          } else if (response.status === 400) {
            announce(data.error, "danger");
          } else {
            throw new Error(data.error || response.statusText);
          }
        });
      })
      .then(
        function () {
          delete pending[key];
          // A click made while this request was under way is sent now, in order.
          var next = queued[key];
          delete queued[key];
          if (next) send(next);
        },
        function () {
          // Logged out, CSRF failure or network trouble: fall back to the plain form post.
          delete pending[key];
          delete queued[key];
          button.dataset.native = "1";
          button.click();
        }
      );
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.hasAttribute("formaction") || button.dataset.native) return;
    event.preventDefault();
    if (pending[button.formAction]) {
      queued[button.formAction] = button; // the latest click wins
      return;
    }
    send(button);
  });

  // A page restored from the back/forward cache shows progress as it was when
  // the learner left it; ticks made elsewhere since would be missing.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });
})();
