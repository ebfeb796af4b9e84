// DeerWeb's small page script: live status refresh, elapsed time, auto-submit selects,
// forms opened in place, prompt character counts, the header's menus.
// No inline script anywhere, so the Content-Security-Policy can forbid it.
(function () {
  "use strict";

  function tickElapsed(root) {
    var now = Date.now() / 1000;
    root.querySelectorAll(".elapsed[data-since]").forEach(function (el) {
      var since = parseFloat(el.getAttribute("data-since"));
      if (!isNaN(since)) {
        // Only the number changes: the rest of the (translated) text, e.g. the unit, stays.
        var seconds = String(Math.max(0, Math.round(now - since)));
        el.textContent = /\d+/.test(el.textContent) ? el.textContent.replace(/\d+/, seconds) : seconds + " s";
      }
    });
  }

  function followLive(section) {
    var url = section.getAttribute("data-live-url");
    var delay = 1000;
    function done() {
      return section.querySelector("[data-live-done]") !== null;
    }
    function refresh() {
      if (done()) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var before = section.querySelector("[data-live-status]");
          var beforeStatus = before ? before.getAttribute("data-live-status") : "";
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          var next = template.content.firstElementChild;
          if (next && (next.getAttribute("data-live-status") !== beforeStatus || next.hasAttribute("data-live-done"))) {
            section.replaceChildren(next);
            delay = 1000;
          } else {
            delay = Math.min(delay * 1.3, 5000);
          }
          tickElapsed(section);
          if (!done()) { window.setTimeout(refresh, delay); }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 10000);
          window.setTimeout(refresh, delay);
        });
    }
    window.setInterval(function () { if (!done()) { tickElapsed(section); } }, 1000);
    window.setTimeout(refresh, delay);
  }

  // For the page scripts loaded after this one (playground.js): parts added later follow the same way.
  window.DeerWeb = { followLive: followLive };

  // A form that undoes something for good (revoke a token, rotate a secret) asks first:
  // its data-confirm is the question. Without JavaScript it is sent at once, as before.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    document.querySelectorAll("[data-site-menu]").forEach(siteMenu);
    document.querySelectorAll("[data-drop-down]").forEach(dropDown);
    // Every live part on the page (one on a prediction, one per column on Compare).
    document.querySelectorAll("[data-live-url]").forEach(followLive);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var modelSelect = document.querySelector(".prediction-form select[name=model]");
    if (modelSelect) { swapModelFields(modelSelect); }
    document.querySelectorAll("a[data-inline-form]").forEach(openInPlace);
    document.querySelectorAll("textarea[data-max-chars]").forEach(countCharacters);
  });

  // Prompt boxes: a character count under the box, saying how many too many past the
  // limit. The box itself never cuts text; the server refuses an over-long prompt.
  function countCharacters(box) {
    var limit = parseInt(box.getAttribute("data-max-chars"), 10);
    var countText = box.getAttribute("data-count-text");
    var overText = box.getAttribute("data-over-text");
    if (isNaN(limit) || !countText || !overText) { return; }
    var counter = document.createElement("p");
    counter.className = "char-count";
    counter.id = box.id + "_count";
    box.after(counter);
    var described = box.getAttribute("aria-describedby");
    box.setAttribute("aria-describedby", described ? described + " " + counter.id : counter.id);
    function update() {
      // Counted as the server counts: spaces around trimmed, characters (not UTF-16 units),
      // and each line break as the two characters (CR LF) the browser sends.
      var count = Array.from(box.value.trim().replace(/\r?\n/g, "\r\n")).length;
      var over = count - limit;
      counter.textContent = (over > 0 ? overText : countText)
        .replace("{count}", String(count)).replace("{over}", String(over));
      counter.classList.toggle("over", over > 0);
    }
    box.addEventListener("input", update);
    update();
  }

  // The header's menu comes open, so every link shows without JS. Where its summary (the
  // Menu button) is shown, on narrow screens, it starts closed; where the stylesheet hides
  // the summary, it stays open. Escape closes it.
  function siteMenu(menu) {
    var toggle = menu.querySelector("summary");
    var collapsible = null;
    function fit() {
      var now = window.getComputedStyle(toggle).display !== "none";
      if (now !== collapsible) {
        collapsible = now;
        menu.open = !now;
      }
    }
    fit();
    window.addEventListener("resize", fit);
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && collapsible && menu.open && !event.defaultPrevented) {
        menu.open = false;
        toggle.focus();
      }
    });
  }

  // The header's menus (Create, Library, Team, the account): <details> that drop down. They
  // open and close without JS, and their shared `name` keeps one open at a time where the
  // browser knows it. Here: opening one closes the others, and a click elsewhere or Escape
  // closes it (Escape gives the focus back to its summary).
  function dropDown(menu) {
    var toggle = menu.querySelector("summary");
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      document.querySelectorAll("[data-drop-down][open]").forEach(function (other) {
        if (other !== menu) { other.open = false; }
      });
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        event.preventDefault();
        menu.open = false;
        toggle.focus();
      }
    });
  }

  // Team usage: "Edit limits of …" fetches that member's small form and shows it under
  // the link, so the page does not carry a form per member. Without JS, or when the
  // fetch fails, the link leads to the member's limits page.
  var inlineCount = 0;
  function openInPlace(link) {
    var panel = document.createElement("div");
    panel.id = "inline-form-" + (++inlineCount);
    panel.hidden = true;
    link.after(panel);
    link.setAttribute("aria-controls", panel.id);
    link.setAttribute("aria-expanded", "false");
    var loading = false;
    function show(open) {
      panel.hidden = !open;
      link.setAttribute("aria-expanded", open ? "true" : "false");
      var first = open && panel.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    }
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      if (panel.childElementCount) { show(panel.hidden); return; }
      if (loading) { return; }
      loading = true;
      fetch(link.getAttribute("data-inline-form"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var template = document.createElement("template");
          template.innerHTML = html;
          panel.replaceChildren(template.content);
          show(true);
        })
        .catch(function () { window.location.href = link.href; })
        .finally(function () { loading = false; });
    });
  }

  // Catalog and history: choosing another model fetches that model's fields and swaps
  // them in; the prompt, outside the swapped part, stays as typed. Without the fetch
  // (or without JS) the "switch" button reloads the form the same way.
  function swapModelFields(select) {
    var form = select.form;
    var target = form.querySelector("[data-model-fields]");
    var url = form.getAttribute("data-fields-url");
    var fallback = function () { form.requestSubmit(form.querySelector("button[name=switch]")); };
    select.addEventListener("change", function () {
      if (!target || !url) { fallback(); return; }
      var model = select.value;
      fetch(url + "?model=" + encodeURIComponent(model), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (select.value !== model) { return; }  // a newer choice is on its way
          var template = document.createElement("template");
          template.innerHTML = html;
          target.replaceChildren(template.content);
          form.querySelectorAll(".form-errors").forEach(function (box) { box.remove(); });
          var address = new URL(window.location.href);
          address.searchParams.set("model", model);
          address.searchParams.delete("from");
          window.history.replaceState(null, "", address);
          form.dispatchEvent(new CustomEvent("deerweb:fields-swapped", { bubbles: true }));
        })
        .catch(fallback);
    });
  }
})();
