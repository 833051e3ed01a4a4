// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Search as you type: a form marked data-live fetches its results as the
  // user types or changes a filter, and swaps the part marked data-results.
  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var target = document.querySelector(form.getAttribute("data-live"));
    if (!target) return;
    var timer = null, seq = 0;
    function refresh() {
      var params = new URLSearchParams(new FormData(form));
      for (var [k, v] of Array.from(params.entries())) { if (v === "") params.delete(k); }
      var url = form.getAttribute("action") + (params.toString() ? "?" + params : "");
      var mine = ++seq;
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "partial=1", { headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine !== seq) return;
          target.innerHTML = html;
          history.replaceState(null, "", url);
        })
        .catch(function () { /* the submit button still works */ });
    }
    form.addEventListener("input", function (e) {
      clearTimeout(timer);
      timer = setTimeout(refresh, e.target.type === "search" ? 200 : 0);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); refresh(); });
    form.querySelectorAll("[data-nojs]").forEach(function (el) { el.hidden = true; });
  });

  // Confirmation dialogs: a button with data-dialog opens the <dialog> it
  // names instead of submitting; without script the form's own page asks.
  document.querySelectorAll("[data-dialog]").forEach(function (btn) {
    var dialog = document.getElementById(btn.getAttribute("data-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    btn.addEventListener("click", function (e) {
      e.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector("[autofocus], button, input, textarea");
      if (first) first.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (c) {
      c.addEventListener("click", function (e) { e.preventDefault(); dialog.close(); btn.focus(); });
    });
  });
})();
