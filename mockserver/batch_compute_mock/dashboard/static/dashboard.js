// Batch Compute dashboard: signs in from a ready link, and keeps a page up to date while work
// goes on (no page reloads).
//
// A page showing work names its live URL on <main data-live-url>. Every data-live-every ms
// while that work goes on (data-live="true"), or every data-idle-every ms otherwise (0: stop),
// this script fetches it and gets JSON back: {live, parts: {elementId: html}, log?}. Each
// part replaces its element's content; a job's log lines are appended (or replace the log
// when a new attempt began). The HTML is rendered and escaped by the server.
(function () {
  "use strict";
  // The ready sign-in link `serve` prints (/dashboard/signin#token=...): the token travels in
  // the fragment, which browsers never send, so it stays out of request lines and logs. Fill
  // the form with it, drop it from the address bar and history, and sign in.
  var form = document.querySelector("form[action='/dashboard/signin']");
  var handed = /^#token=([^&]+)/.exec(window.location.hash);
  if (form && handed) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
    form.elements.token.value = decodeURIComponent(handed[1]);
    form.submit();
  }
})();

(function () {
  "use strict";
  var main = document.querySelector("main[data-live-url]");
  if (!main) return;
  var fast = Number(main.dataset.liveEvery) || 2000;
  var idle = Number(main.dataset.idleEvery) || 0;
  var live = main.dataset.live === "true";
  var MAX_LOG_LINES = 20000;

  function openDetails(element) {
    var open = {};
    element.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
    return open;
  }

  function restoreDetails(element, open) {
    element.querySelectorAll("details[id]").forEach(function (d) {
      if (d.id in open) d.open = open[d.id];
    });
  }

  function applyLog(update) {
    var lines = document.getElementById("log-lines");
    if (!lines || !update) return;
    var atBottom = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 24;
    if (update.reset) lines.innerHTML = "";
    if (update.html) lines.insertAdjacentHTML("beforeend", update.html);
    while (lines.childElementCount > MAX_LOG_LINES) lines.firstElementChild.remove();
    lines.dataset.offset = update.offset;
    lines.dataset.attempt = update.attempt;
    var empty = document.getElementById("log-empty");
    if (empty) empty.hidden = lines.childElementCount > 0;
    if (atBottom) lines.scrollTop = lines.scrollHeight;
  }

  function apply(update) {
    live = Boolean(update.live);
    main.dataset.live = live ? "true" : "false";
    Object.keys(update.parts || {}).forEach(function (id) {
      var element = document.getElementById(id);
      if (!element) return;
      var open = openDetails(element);
      element.innerHTML = update.parts[id];
      restoreDetails(element, open);
    });
    applyLog(update.log);
  }

  function schedule() {
    var wait = live ? fast : idle;
    if (wait > 0) window.setTimeout(tick, wait);
  }

  function tick() {
    if (document.hidden) { schedule(); return; }
    var url = new URL(main.dataset.liveUrl, window.location.href);
    var lines = document.getElementById("log-lines");
    if (lines) {
      url.searchParams.set("offset", lines.dataset.offset);
      url.searchParams.set("attempt", lines.dataset.attempt);
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (answer.status === 401 || answer.status === 404) {
          window.location.reload();  // signed out, or gone: the page itself says so
          return null;
        }
        return answer.ok ? answer.json() : null;
      })
      .then(function (update) { if (update) apply(update); })
      .catch(function () { /* the server is restarting, or the network blinked: retry */ })
      .then(schedule);
  }

  schedule();
})();
