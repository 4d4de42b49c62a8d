/* /unsubscribe/: where a marketing mail's unsubscribe link lands (GET /api/unsubscribe?token=...
   redirects here with the token in the query string). Opening the page changes nothing: only the
   button POSTs {"token": ...} to /api/unsubscribe, then says that no more marketing mail comes,
   or shows the API's problem (a forged or used token is a 400 naming "token"). The language
   switch keeps the token. */
(function () {
  "use strict";
  var P = window.Portal;
  var form = P && P.byId("unsubscribe-form");
  if (!form) {
    return;
  }
  var status = P.byId("unsubscribe-status");
  var token = "";
  try {
    token = (new URLSearchParams(window.location.search).get("token") || "").trim();
  } catch (e) {
    token = "";
  }

  if (!token) {
    form.hidden = true;
    P.setStatus(status, "error", P.msg("jsUnsubscribeNoToken"));
    return;
  }

  // The other language's page needs the token too.
  document.querySelectorAll(".lang-switch a[hreflang]").forEach(function (a) {
    a.search = "?token=" + encodeURIComponent(token);
  });

  P.onSubmit(form, function () {
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/unsubscribe", { token: token }).then(function (r) {
      if (r.ok) {
        form.hidden = true;
        P.setStatus(status, "success", P.msg("jsUnsubscribed"));
        return;
      }
      if (r.status === 400 && r.problem.field === "token") {
        form.hidden = true; // the link will not work again: no point in a second try
        P.setStatus(status, "error", r.problem.detail || P.msg("jsUnsubscribeBadLink"));
        return;
      }
      P.setStatus(status, "error", r.problem.detail);
    });
  });
})();
