// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Search as you type: a form marked data-live fetches its results as the
  // user types or changes a filter, and swaps the part it names.
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

  // Confirmation dialogs: a link or button with data-dialog opens the
  // <dialog> it names; without script, its href leads to a page that asks.
  document.querySelectorAll("[data-dialog]").forEach(function (btn) {
    var dialog = document.getElementById(btn.getAttribute("data-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    btn.addEventListener("click", function (e) {
      e.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector("[autofocus], input, button");
      if (first) first.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (c) {
      c.addEventListener("click", function (e) { e.preventDefault(); dialog.close(); btn.focus(); });
    });
  });

  // Copy buttons: shown only with script; they copy the element they name.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var from = document.getElementById(btn.getAttribute("data-copy"));
    if (!from || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(from.textContent.trim()).then(function () {
        btn.textContent = btn.getAttribute("data-copied");
      });
    });
  });

  // Upload: drop a file on the zone or choose one; it is sent with a
  // progress bar, then the browser goes to the analysis.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var name = form.querySelector("[data-filename]");
    var bar = form.querySelector("[data-upload-progress]");
    var error = form.querySelector("[data-upload-error]");
    var shown = function () { name.textContent = input.files.length ? input.files[0].name : ""; };
    input.addEventListener("change", shown);
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; shown(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      error.hidden = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "fetch");
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * p.loaded / p.total); }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (body.location) { location.assign(body.location); return; }
        bar.hidden = true;
        error.textContent = body.error || xhr.statusText;
        error.hidden = false;
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.send(new FormData(form));
    });
  });

  // A running import: the bar follows the rows done; the page reloads
  // into the report when the import ends.
  document.querySelectorAll("[data-progress]").forEach(function (box) {
    var bar = box.querySelector("progress"), text = box.querySelector("[data-progress-text]");
    var tick = function () {
      fetch(box.getAttribute("data-progress"), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.status !== "running") { location.reload(); return; }
          if (p.total) {
            bar.max = p.total; bar.value = p.done;
            text.textContent = text.getAttribute("data-progress-text").replace("{done}", p.done).replace("{total}", p.total);
          }
          setTimeout(tick, 500);
        })
        .catch(function () { setTimeout(tick, 2000); });
    };
    setTimeout(tick, 300);
  });

  // The audit's live stream: the server sends each new event as the row
  // it renders for the page; it goes on top. EventSource reconnects by
  // itself, resuming after the last row received.
  document.querySelectorAll("[data-live-stream]").forEach(function (box) {
    if (typeof EventSource !== "function") return;
    var rows = box.querySelector("[data-live-rows]"), table = box.querySelector("[data-live-table]");
    var empty = box.querySelector("[data-live-empty]"), state = box.querySelector("[data-live-state]");
    var label = box.querySelector("[data-live-text]");
    var source = new EventSource(box.getAttribute("data-live-stream"));
    var show = function (on) {
      state.classList.toggle("off", !on);
      label.textContent = label.getAttribute(on ? "data-live-on" : "data-live-off");
    };
    state.hidden = false;
    empty.hidden = false;
    source.addEventListener("open", function () { show(true); });
    source.addEventListener("error", function () { show(false); });
    source.addEventListener("message", function (e) {
      rows.insertAdjacentHTML("afterbegin", e.data);
      table.hidden = false;
      empty.hidden = true;
    });
  });
})();
