/* Privacy Portal: counts this page view, POST /api/events {"type": "pageview", "path": ...}.
   Loaded only by js/cookie-banner.js, once per page, when the visitor has allowed analytics on the
   cookie banner (with a Global Privacy Control or Do Not Track signal on, only when they turned it
   on themselves). It sends the path and nothing else, sets no cookie and reads none; the API
   counts one number per path and day, and only with the analytics consent (docs/api.md). A plain
   fetch, not api.js: most pages load none of the account scripts. */
(function () {
  "use strict";
  if (!window.fetch) {
    return;
  }
  fetch("/api/events", {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "pageview", path: location.pathname })
  }).catch(function () { /* a lost count is not worth a message */ });
})();
