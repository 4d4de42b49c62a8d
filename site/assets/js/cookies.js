/* /cookies/: the cookie page (P07). Shows the visitor's choice on the cookie banner and the browser
   signal that applies (window.PortalCookies, from js/cookie-banner.js, which runs before this
   deferred script), opens the banner's preferences, and deletes each cookie: the session cookie
   is HttpOnly, so deleting it means signing out (DELETE /api/session); the choice cookie is
   removed here and the page reloaded, so the banner asks again. */
(function () {
  "use strict";
  var P = window.Portal;
  var page = P && P.byId("cookies-page");
  if (!page) {
    return;
  }
  var B = window.PortalCookies;
  var status = P.byId("cookies-status");
  var choice = P.byId("cookies-choice");
  var signal = P.byId("cookies-signal");
  var prefs = P.byId("cookies-preferences");
  var CHOICES = { on: "jsCookiesChoiceOn", off: "jsCookiesChoiceOff", unset: "jsCookiesChoiceUnset" };

  function show() {
    if (!B) {
      return;
    }
    choice.textContent = P.msg(CHOICES[B.choice()] || CHOICES.unset);
    signal.textContent = B.signalText || "";
    signal.hidden = !B.signalText;
  }

  if (B) {
    show();
    B.onChange(show);
    prefs.addEventListener("click", function () {
      B.showPreferences();
    });
    P.byId("cookies-delete-choice").addEventListener("click", function () {
      B.forget();
      window.location.reload();
    });
  } else {
    prefs.hidden = true;
    P.byId("cookies-row-choice").querySelector("button").hidden = true;
  }

  var list = P.byId("cookies-list");
  P.runBusy(P.byId("cookies-delete-session"), list, function () {
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("DELETE", "/api/session").then(function (r) {
      if (r.ok) {
        P.setStatus(status, "success", P.msg("jsCookiesSignedOut"));
      } else if (r.status === 401) {
        P.setStatus(status, "info", P.msg("jsCookiesNotSignedIn"));
      } else {
        P.setStatus(status, "error", r.problem.detail);
      }
    });
  });
})();
