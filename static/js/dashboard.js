// Safety dashboard: while it is open, the counts and the list refresh themselves every few seconds
// (the page itself is not reloaded, so a half-typed proxy answer or an open menu is never lost).
// Without JavaScript the page is the same, refreshed by reloading it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch || !window.DOMParser) { return; }
  var every = 1000 * (parseInt(live.getAttribute("data-refresh"), 10) || 10);
  var parts = ["live", "live-tables"];

  function busy() {
    // Someone is answering for a member: leave the list alone until they are done.
    var tables = document.getElementById("live-tables");
    if (!tables) { return false; }
    return tables.querySelector("details[open]") !== null || tables.contains(document.activeElement);
  }

  function refresh() {
    if (document.visibilityState === "hidden" || busy()) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        parts.forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) { now.innerHTML = next.innerHTML; }
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }
  setInterval(refresh, every);
})();
