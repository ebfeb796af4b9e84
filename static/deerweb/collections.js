// "Add to a collection" on a prediction's page: sent in the background, the answer said in the
// form's status line, so the member stays where they are. Without JavaScript the form is posted
// and DeerWeb comes back to the page with the same message.
(function () {
  "use strict";

  function enhance(form) {
    var status = form.querySelector("[data-add-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.append("add", "1");
      status.textContent = "";
      form.setAttribute("aria-busy", "true");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          status.textContent = answer.message || answer.error || "";
          status.classList.toggle("error", !answer.message);
          if (answer.message) {
            var name = form.querySelector("input[name=new_name]");
            if (name && name.value) { window.location.reload(); }  // the new collection joins the menu
          }
        })
        .catch(function () {
          var add = document.createElement("input");
          add.type = "hidden"; add.name = "add"; add.value = "1";
          form.appendChild(add);
          form.submit();
        })
        .finally(function () { form.removeAttribute("aria-busy"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-collection-add=inline]").forEach(enhance);
  });
})();
