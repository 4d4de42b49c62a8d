/* /signin/: POST /api/session. 200 opens the account page; 403 explains why not (e-mail not
   verified yet, or the account waits for a guardian) and, for an unverified address, offers the
   code form, which sends the password just typed with the code, then signs in once the code is
   accepted. */
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

  // The password sent with the attempt the API answered "verify your address first" (so it is
  // the registration's): the code form sends it with the code.
  var sent = "";
  var code = P.codeForm({
    password: function () { return sent; },
    onVerified: function () {
      P.byId("verify-section").hidden = true;
      P.setStatus(status, "info", P.msg("jsVerifiedSigningIn"));
      P.byId("signin-submit").focus();
      password.value = sent; // the one just proved right, should the field have changed since
      form.requestSubmit();
    }
  });

  // waitsForGuardian tells the two 403s apart: by the problem's type (/api/problems/
  // email-unverified or /api/problems/guardian-pending); failing that, by "guardian" in its type,
  // title or an extension member, and in its detail last.
  function waitsForGuardian(problem) {
    var raw = problem.raw || {};
    if (/\/email-unverified$/.test(problem.type)) {
      return false;
    }
    if (/\/guardian-pending$/.test(problem.type)) {
      return true;
    }
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
    var pw = password.value;
    return P.api("POST", "/api/session", { login: who, password: pw }).then(function (r) {
      if (r.ok) {
        sent = "";
        P.setStatus(status, "success", P.msg("jsSignedIn"));
        window.location.assign(form.getAttribute("data-next"));
        return;
      }
      if (r.status === 403) {
        P.setStatus(status, "error", r.problem.detail);
        if (!waitsForGuardian(r.problem)) {
          // A fresh code is on its way to the registered address.
          sent = pw;
          code.show(who.indexOf("@") > 0 ? who : "");
        }
        return;
      }
      P.showProblem(form, status, r.problem);
    });
  });
})();
