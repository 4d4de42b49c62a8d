/* /reset/: a forgotten password. Step 1 posts the address to /api/password/reset (always 202:
   a code is mailed, a moment later, if an account has that address), or goes straight to step 2
   for someone who has a code already; step 2 posts {email, code, newPassword} to
   /api/password/reset/confirm. From the mailed link (/reset/#token=...) step 2 asks for the new
   password only and posts {token, newPassword}. Success signs out every session: the page says
   so and links to sign in. */
(function () {
  "use strict";
  var P = window.Portal;
  var requestForm = P && P.byId("reset-request-form");
  if (!requestForm) {
    return;
  }
  var request = P.byId("reset-request");
  var requestStatus = P.byId("reset-request-status");
  var requestEmail = P.byId("reset-email");
  var section = P.byId("reset-section");
  var form = P.byId("reset-form");
  var status = P.byId("reset-status");
  var intro = P.byId("reset-intro");
  var code = P.byId("reset-code");
  var newPassword = P.byId("reset-new-password");
  var resend = P.byId("reset-resend");
  var showPassword = P.passwordToggle(P.byId("reset-show-password"));
  var email = ""; // the address given in step 1
  var token = ""; // a mailed link's token, while step 2 uses it instead of the address and code

  // step2 shows step 2 for the address (or the token) with text as its introduction.
  function step2(text) {
    P.clearErrors(form);
    P.setStatus(status, "", "");
    P.setStatus(requestStatus, "", "");
    P.byId("reset-code-field").hidden = !!token;
    resend.hidden = !!token;
    intro.textContent = text;
    request.hidden = true;
    section.hidden = false;
    P.focusHeading(P.byId("reset-heading"));
  }

  // Step 1: "Send me a code", or "I already have a code" (no request: a new code would replace it).
  P.onSubmit(requestForm, function (submitter) {
    P.clearErrors(requestForm);
    var errors = P.checkFields(requestForm);
    if (errors.length) {
      P.reportErrors(requestStatus, errors);
      return null;
    }
    var address = requestEmail.value.trim();
    if (submitter && submitter.value === "code") {
      email = address;
      step2(P.msg("jsResetHaveCode", { email: address }));
      return null;
    }
    P.setStatus(requestStatus, "info", P.msg("jsSending"));
    return P.api("POST", "/api/password/reset", { email: address }).then(function (r) {
      if (!r.ok) {
        P.showProblem(requestForm, requestStatus, r.problem);
        return;
      }
      email = address;
      step2(P.msg("jsResetSent", { email: address }));
    });
  });

  P.onSubmit(form, function () {
    P.clearErrors(form);
    var errors = P.checkFields(form);
    var bad = token ? null : P.codeError(code);
    if (bad) {
      errors.push(bad);
    }
    var weak = P.passwordError(newPassword);
    if (weak) {
      errors.push(weak);
    }
    if (errors.length) {
      P.reportErrors(status, errors);
      return null;
    }
    var body = token ? { token: token } : { email: email, code: code.value.replace(/\s+/g, "") };
    body.newPassword = newPassword.value;
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/password/reset/confirm", body).then(function (r) {
      if (r.ok) {
        if (token) {
          token = "";
          P.dropFragment();
        }
        email = "";
        form.reset();
        showPassword.reset();
        P.setStatus(status, "", "");
        section.hidden = true;
        P.byId("reset-done").hidden = false;
        P.focusHeading(P.byId("reset-done-heading"));
        return;
      }
      var p = r.problem;
      if (r.status === 400 && p.field === "code") {
        P.reportErrors(status, [{ controls: [code], text: P.msg("jsErrResetCode") }]);
      } else if (r.status === 400 && p.field === "token") {
        // The link is spent or expired: only a new code helps.
        P.setStatus(status, "error", P.msg("jsErrResetLink"));
        P.byId("reset-restart").focus();
      } else {
        P.showProblem(form, status, p);
      }
    });
  });

  P.runBusy(resend, form, function () {
    P.clearErrors(form);
    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/password/reset", { email: email }).then(function (r) {
      if (r.ok) {
        P.setStatus(status, "success", P.msg("jsResetResent", { email: email }));
        code.focus();
      } else {
        P.showProblem(form, status, r.problem);
      }
    });
  });

  // Back to step 1: another address, or a new code when a link has expired.
  P.byId("reset-restart").addEventListener("click", function () {
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    if (token) {
      token = "";
      P.dropFragment();
    }
    form.reset();
    showPassword.reset();
    P.clearErrors(form);
    P.setStatus(status, "", "");
    section.hidden = true;
    request.hidden = false;
    requestEmail.value = email;
    requestEmail.focus();
  });

  P.reloadOnNewToken();
  token = P.fragmentToken();
  if (token) {
    P.keepFragmentOnLanguageSwitch();
    request.hidden = true;
    P.byId("reset-code-field").hidden = true;
    resend.hidden = true;
    intro.textContent = P.msg("jsResetLinkIntro");
    section.hidden = false;
  }
})();
