// The playground (/predictions/new/): the form posts by fetch and stays as it was, the new
// result goes to the top of the results column and follows its status live (app.js's
// followLive), Ctrl/⌘+Enter submits, and the cost preview follows the model and num_outputs.
// Without JavaScript the form posts and redirects as before. Loaded after app.js (both defer).
(function () {
  "use strict";

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function playground(form) {
    var results = document.querySelector("[data-results]");
    var costBox = form.querySelector("[data-run-cost]");
    var generate = form.querySelector("[data-generate]");
    var busy = false;

    // --- Messages on the form, as the server renders them (predictions/_field.html) ---
    function clearErrors() {
      form.querySelectorAll(".form-errors").forEach(function (box) { box.remove(); });
      form.querySelectorAll(".field > .error").forEach(function (line) { line.remove(); });
      form.querySelectorAll(".field.has-error").forEach(function (box) { box.classList.remove("has-error"); });
      form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    }

    function line(tag, className, text) {
      var el = document.createElement(tag);
      if (className) { el.className = className; }
      el.textContent = text;
      return el;
    }

    function showErrors(errors) {
      var general = [];
      var first = null;
      Object.keys(errors).forEach(function (name) {
        var controls = name === "__all__" ? [] : form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
        var box = controls.length ? controls[0].closest(".field") : null;
        if (!box) {
          errors[name].forEach(function (message) { general.push(name === "__all__" ? message : name + ": " + message); });
          return;
        }
        box.classList.add("has-error");
        controls.forEach(function (control) { control.setAttribute("aria-invalid", "true"); });
        errors[name].forEach(function (message) {
          var error = line("p", "error", message);
          error.setAttribute("role", "alert");
          box.append(error);
        });
        first = first || controls[0];
      });
      if (general.length) {
        var summary = document.createElement("div");
        summary.className = "form-errors";
        summary.setAttribute("role", "alert");
        summary.tabIndex = -1;
        general.forEach(function (message) { summary.append(line("p", "", message)); });
        form.prepend(summary);
        first = first || summary;
      }
      if (first) { first.focus(); }
    }

    // --- What this run will cost ---
    var costWanted = "";
    function refreshCost() {
      if (!costBox) { return; }
      var model = form.querySelector("select[name=model]");
      var count = form.querySelector("[name=num_outputs]");
      var url = costBox.getAttribute("data-cost-url") + "?model=" + encodeURIComponent(model ? model.value : "") +
        (count ? "&num_outputs=" + encodeURIComponent(count.value) : "");
      costWanted = url;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (url === costWanted) { costBox.replaceChildren(fromHtml(html)); }  // else a newer one is coming
        })
        .catch(function () { /* the preview stays as it was; the submit still checks the budget */ });
    }
    var costTimer = null;
    function costSoon(event) {
      if (event.target.name !== "num_outputs") { return; }
      window.clearTimeout(costTimer);
      costTimer = window.setTimeout(refreshCost, 150);
    }
    form.addEventListener("input", costSoon);
    form.addEventListener("change", costSoon);
    form.addEventListener("deerweb:fields-swapped", refreshCost);

    // --- A new result at the top of the column ---
    function addResult(html) {
      var card = fromHtml(html).firstElementChild;
      if (!card || !results) { return; }
      var empty = document.querySelector("[data-results-empty]");
      if (empty) { empty.remove(); }
      var again = results.querySelector('[data-prediction-id="' + card.getAttribute("data-prediction-id") + '"]');
      if (again) { again.remove(); }
      results.prepend(card);
      card.querySelectorAll("[data-live-url]").forEach(window.DeerWeb.followLive);
      // On a phone the results are below the form: bring the new one into view.
      var box = card.getBoundingClientRect();
      if (box.top >= window.innerHeight || box.bottom <= 0) { card.scrollIntoView({ block: "nearest" }); }
    }

    // --- Submitting ---
    form.addEventListener("submit", function (event) {
      // The no-JS model switch (app.js's fallback) reloads the form as before.
      if (event.defaultPrevented || (event.submitter && event.submitter.name === "switch")) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      form.setAttribute("aria-busy", "true");
      generate.setAttribute("aria-disabled", "true");
      fetch(form.getAttribute("action"), {
        method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!json) { throw new Error("HTTP " + response.status); }
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          clearErrors();
          if (!answer.ok) { showErrors(answer.body.errors || {}); return; }
          addResult(answer.body.result);
          if (costBox && answer.body.cost) { costBox.replaceChildren(fromHtml(answer.body.cost)); }
          var header = document.querySelector("[data-budget-left]");
          if (header && answer.body.budget) { header.replaceWith(fromHtml(answer.body.budget)); }
        })
        .catch(function () {
          clearErrors();
          showErrors({ "__all__": [form.getAttribute("data-failed-text")] });
        })
        .then(function () {
          busy = false;
          form.removeAttribute("aria-busy");
          generate.removeAttribute("aria-disabled");
        });
    });

    // Ctrl+Enter (⌘+Enter on a Mac) anywhere in the form: Generate. So does Enter in a one-line
    // box, which would otherwise press the form's first button, the hidden model switch.
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.altKey || event.shiftKey || event.isComposing) { return; }
      var shortcut = event.ctrlKey || event.metaKey;
      var oneLine = event.target.tagName === "INPUT" && event.target.type !== "file";
      if (shortcut || oneLine) {
        event.preventDefault();
        form.requestSubmit(generate);
      }
    });
    if (generate) { generate.setAttribute("aria-describedby", "generate-shortcut"); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-playground]");
    if (form && window.DeerWeb && window.fetch) { playground(form); }
  });
})();
