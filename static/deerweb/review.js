// The review queue: approve and reject without reloading, with keyboard shortcuts.
// a = approve, r = reject (asks for a reason), x = select, arrows = move between cards.
// Without this script the same form still works: each button posts and the page comes back.
(function () {
  "use strict";

  var ARROWS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];

  function init(form) {
    var grid = form.querySelector("[data-review-grid]");
    var status = form.querySelector("[data-review-status]");
    var selectedCount = form.querySelector("[data-selected-count]");
    var waiting = document.querySelector("[data-review-waiting]");
    var pageDone = form.querySelector("[data-review-page-done]");
    var dialog = document.querySelector("[data-reject-dialog]");
    var dialogForm = dialog.querySelector("[data-reject-dialog-form]");
    var dialogError = dialog.querySelector("[data-reject-error]");
    var dialogTarget = dialog.querySelector("[data-reject-target]");
    var details = dialog.querySelector("[name=dialog-details]");
    var rejecting = [];
    var returnFocus = null;

    // With the script, reasons are asked for in the dialog.
    form.querySelector("[data-reject-fields]").hidden = true;

    function text(name, n) {
      return (form.getAttribute("data-text-" + name) || "").replace("{n}", String(n));
    }
    function say(message) { status.textContent = message || ""; }
    function cards() { return Array.prototype.slice.call(grid.querySelectorAll(".review-card")); }
    function cardOf(id) { return grid.querySelector('.review-card[data-review-id="' + id + '"]'); }
    function selectedIds() {
      return Array.prototype.map.call(grid.querySelectorAll("input[name=ids]:checked"), function (box) {
        return box.value;
      });
    }
    function updateSelected() {
      var n = selectedIds().length;
      selectedCount.textContent = n ? text("selected", n) : "";
    }

    function columns(list) {
      if (!list.length) { return 1; }
      var top = list[0].offsetTop;
      var n = 0;
      while (n < list.length && list[n].offsetTop === top) { n += 1; }
      return Math.max(1, n);
    }

    function move(from, key) {
      var list = cards();
      if (!list.length) { return; }
      var index = from ? list.indexOf(from) : -1;
      if (index < 0) { list[0].focus(); return; }
      var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(list), ArrowDown: columns(list) }[key];
      var next = Math.min(list.length - 1, Math.max(0, index + step));
      list[next].focus();
    }

    function removeCards(ids) {
      var list = cards();
      var focused = document.activeElement && document.activeElement.closest
        ? document.activeElement.closest(".review-card") : null;
      var focusIndex = focused ? list.indexOf(focused) : -1;
      var removed = 0;
      ids.forEach(function (id) {
        var card = cardOf(id);
        if (card) { card.parentNode.remove(); removed += 1; }
      });
      if (waiting) {
        var left = Math.max(0, (parseInt(waiting.textContent, 10) || 0) - removed);
        waiting.textContent = String(left);
      }
      var rest = cards();
      if (!rest.length) {
        pageDone.hidden = false;
        pageDone.querySelector("a").focus();
      } else if (focusIndex >= 0 && !document.activeElement.closest(".review-card")) {
        rest[Math.min(focusIndex, rest.length - 1)].focus();
      }
      updateSelected();
    }

    function decide(action, ids, reason, note) {
      if (!ids.length) { say(text("none")); return; }
      ids.forEach(function (id) { var card = cardOf(id); if (card) { card.setAttribute("aria-busy", "true"); } });
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("action", action);
      ids.forEach(function (id) { data.append("ids", id); });
      if (action === "reject") {
        data.append("reason", reason);
        data.append("details", note);
      }
      // getAttribute: the buttons named "action" shadow the form's own `action` property.
      fetch(form.getAttribute("action"), {
        method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!json) { throw new Error(text("failed")); }
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (!result.ok) { throw new Error(result.body.error || text("failed")); }
          // Skipped ones were decided by someone else meanwhile: they leave the queue too.
          removeCards(result.body.decided.concat(result.body.skipped));
          say(result.body.message);
        })
        .catch(function (error) {
          // A TypeError is fetch's own network failure: say it in the page's language.
          say(error instanceof TypeError || !error.message ? text("failed") : error.message);
        })
        .then(function () {
          ids.forEach(function (id) { var card = cardOf(id); if (card) { card.removeAttribute("aria-busy"); } });
        });
    }

    function openReject(ids, label) {
      if (!ids.length) { say(text("none")); return; }
      rejecting = ids;
      returnFocus = document.activeElement;
      dialogTarget.textContent = label;
      dialogError.hidden = true;
      details.value = "";
      dialog.showModal();
      var checked = dialogForm.querySelector("input[name=dialog-reason]:checked");
      (checked || dialogForm.querySelector("input[name=dialog-reason]")).focus();
    }

    function titleOf(card) {
      var title = card.querySelector("h2");
      return title ? title.textContent : "";
    }

    dialogForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var choice = dialogForm.querySelector("input[name=dialog-reason]:checked");
      var reason = choice ? choice.value : "other";
      var note = details.value.trim();
      if (reason === "other" && !note) {
        dialogError.textContent = text("details");
        dialogError.hidden = false;
        details.focus();
        return;
      }
      dialog.close();
      decide("reject", rejecting, reason, note);
    });
    dialog.addEventListener("keydown", function (event) {
      // Enter on a reason confirms, as it does in the text field.
      if (event.key === "Enter" && event.target.name === "dialog-reason") {
        event.preventDefault();
        dialogForm.requestSubmit();
      }
    });
    dialog.querySelector("[data-reject-cancel]").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      if (returnFocus && document.body.contains(returnFocus)) { returnFocus.focus(); }
    });

    form.addEventListener("change", function (event) {
      if (event.target.name === "ids") { updateSelected(); }
    });

    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.hasAttribute("formaction")) { return; }  // "Add selected to collection": sent as it is
      event.preventDefault();
      if (button.name === "one") {
        var parts = button.value.split(":");
        var card = cardOf(parts[1]);
        if (parts[0] === "approve") { decide("approve", [parts[1]]); } else { openReject([parts[1]], titleOf(card)); }
        return;
      }
      var ids = selectedIds();
      if (button.value === "approve") { decide("approve", ids); } else { openReject(ids, text("bulk", ids.length)); }
    });

    document.addEventListener("keydown", function (event) {
      if (dialog.open || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var target = event.target;
      if (target.closest && target.closest("input, select, textarea, [contenteditable]")) { return; }
      var card = target.closest ? target.closest(".review-card") : null;
      if (ARROWS.indexOf(event.key) >= 0) {
        if (card || target === document.body) {
          event.preventDefault();
          move(card, event.key);
        }
        return;
      }
      if (!card || card.getAttribute("aria-busy") === "true") { return; }
      var id = card.getAttribute("data-review-id");
      if (event.key === "a") {
        event.preventDefault();
        decide("approve", [id]);
      } else if (event.key === "r") {
        event.preventDefault();
        openReject([id], titleOf(card));
      } else if (event.key === "x") {
        event.preventDefault();
        var box = card.querySelector("input[name=ids]");
        box.checked = !box.checked;
        updateSelected();
      }
    });

    var first = cards()[0];
    if (first) { first.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-review-form]");
    if (form) { init(form); }
  });
})();
