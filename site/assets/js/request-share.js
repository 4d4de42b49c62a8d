/* /requests/share/: the confirmation that a copy goes to the third party the person named (after
   strings.js, api.js, form.js and code.js). The link in the confirmation mail is
   /requests/share/#id=<id>&token=<token>: in the fragment, so the token reaches neither the
   site's logs nor a Referer (code.js reads it, and carries it over the language switch). Nothing
   is sent on load: the button posts POST /api/exports/{id}/share {"token"}, and the third party
   is mailed its own single-use link. 200: done, and the used token leaves the address bar. A
   400 (not valid, expired, or used already): the API's words, and a link to ask for a new copy.
   A missing or malformed id or token: "this link is not valid", without asking the API. */
(function () {
  "use strict";
  var P = window.Portal;
  var form = P && P.byId("request-share-form");
  if (!form) {
    return;
  }
  var byId = P.byId;
  var status = byId("request-share-status");
  var retry = byId("request-share-retry");

  // idParam reads id from the fragment, by hand as code.js reads the token (a "+" stays a "+").
  function idParam() {
    var parts = location.hash.replace(/^#/, "").split("&");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf("id=") === 0) {
        try {
          return decodeURIComponent(parts[i].slice(3));
        } catch (e) {
          return "";
        }
      }
    }
    return "";
  }

  // A request's id is <subject>.<request> (neither part holding a dot), its token 64 hex digits.
  var id = idParam();
  var token = P.fragmentToken();
  P.keepFragmentOnLanguageSwitch();
  P.reloadOnNewToken();

  if (!/^[^.\s]{1,64}\.[^.\s]{1,64}$/.test(id) || !/^[0-9a-fA-F]{64}$/.test(token)) {
    byId("request-share-view").hidden = true;
    byId("request-share-invalid").hidden = false;
    return;
  }

  P.onSubmit(form, function () {
    retry.hidden = true;
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/exports/" + encodeURIComponent(id) + "/share", { token: token }).then(function (r) {
      if (r.ok) {
        P.dropFragment();
        P.setStatus(status, "", "");
        byId("request-share-view").hidden = true;
        byId("request-share-done").hidden = false;
        P.focusHeading(byId("request-share-done-heading"));
      } else if (r.status === 400 || r.status === 404) {
        // The link does no more: the way on is a new copy (the status region holds the link).
        retry.hidden = false;
        P.setStatus(status, "error", r.problem.detail, retry);
      } else {
        P.setStatus(status, "error", r.problem.detail);
      }
    });
  });
})();
