/* /signin/: POST /api/session. 200 opens the account page; 403 explains why not (e-mail not
   verified yet, or the account waits for a guardian) and, for an unverified address, offers the
   code form, then signs in once the code is accepted. */
(function () {
  "use strict";
  var P = window.Portal;
  var form = P && P.byId("signin-form");
  if (!form) {
    return;
  }
  var status = P.byId("signin-status");
  var login = P.byId("signin-login");
  var password = P.byId("signin-password");

  var code = P.codeForm({
    onVerified: function () {
      P.byId("verify-section").hidden = true;
      P.setStatus(status, "info", P.msg("jsVerifiedSigningIn"));
      P.byId("signin-submit").focus();
      form.requestSubmit();
    }
  });

  // waitsForGuardian tells the two 403s apart. The API documents no code for them, so this looks
  // for "guardian" in the problem's type, title or an extension member, and in its detail last.
  function waitsForGuardian(problem) {
    var raw = problem.raw || {};
    var named = [problem.type, problem.title, raw.code, raw.reason, raw.status].join(" ");
    if (/guardian/i.test(named)) {
      return true;
    }
    if (/verif|unconfirmed|email/i.test(named)) {
      return false;
    }
    return /guardian|监护/i.test(problem.detail);
  }

  P.onSubmit(form, function () {
    P.clearErrors(form);
    var errors = P.checkFields(form);
    if (errors.length) {
      P.reportErrors(status, errors);
      return null;
    }
    P.setStatus(status, "info", P.msg("jsSending"));
    var who = login.value.trim();
    return P.api("POST", "/api/session", { login: who, password: password.value }).then(function (r) {
      if (r.ok) {
        P.setStatus(status, "success", P.msg("jsSignedIn"));
        window.location.assign(form.getAttribute("data-next"));
        return;
      }
      if (r.status === 403) {
        P.setStatus(status, "error", r.problem.detail);
        if (!waitsForGuardian(r.problem)) {
          // A fresh code is on its way to the registered address.
          code.show(who.indexOf("@") > 0 ? who : "");
        }
        return;
      }
      P.showProblem(form, status, r.problem);
    });
  });
})();
