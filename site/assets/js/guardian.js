/* /guardian/: the guardian's mailed link (/guardian/#token=...); Confirm or Refuse posts
   {token, decision} to /api/guardian. */
(function () {
  "use strict";
  var P = window.Portal;
  var form = P && P.byId("guardian-form");
  if (!form) {
    return;
  }
  var status = P.byId("guardian-status");
  P.reloadOnNewToken();
  var token = P.fragmentToken();
  if (!token) {
    form.hidden = true;
    P.setStatus(status, "error", P.msg("jsGuardianNoToken"));
    return;
  }
  P.keepFragmentOnLanguageSwitch();

  P.onSubmit(form, function (submitter) {
    var decision = submitter && submitter.value;
    if (decision !== "confirm" && decision !== "refuse") {
      return null;
    }
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/guardian", { token: token, decision: decision }).then(function (r) {
      if (!r.ok) {
        P.setStatus(status, "error", r.problem.detail);
        return;
      }
      P.dropFragment();
      P.setStatus(status, "", "");
      form.hidden = true;
      P.byId("guardian-result-text").textContent = P.msg(decision === "confirm" ? "jsGuardianConfirmed" : "jsGuardianRefused");
      P.byId("guardian-result").hidden = false;
      P.focusHeading(P.byId("guardian-result-heading"));
    });
  });
})();
