/* /register/: POST /api/register, then "check your e-mail" with the code form, which sends the
   password just typed with the code (kept in this page's memory only, never stored). */
(function () {
  "use strict";
  var P = window.Portal;
  var form = P && P.byId("register-form");
  if (!form) {
    return;
  }
  var status = P.byId("register-status");
  var ageNo = P.byId("register-age-no");
  var guardian = P.byId("register-guardian");
  var guardianEmail = P.byId("register-guardian-email");
  var password = P.byId("register-password");
  // The password of the registration, for the code form: the API takes it with the code.
  var registered = "";
  var code = P.codeForm({
    password: function () { return registered; },
    onVerified: function () {
      registered = "";
      code.showDone();
    }
  });

  // The optional fields, as the catalogue lists them (the page renders one per entry). A value
  // is sent with its consent purpose; checkConsents has made sure its box is ticked.
  var optional = P.optionalFields(form);

  // Under 14: ask for a parent's or guardian's address, and require it.
  function syncGuardian() {
    guardian.hidden = !ageNo.checked;
    guardianEmail.required = ageNo.checked;
  }
  form.querySelectorAll("input[name=ageGroup]").forEach(function (r) {
    r.addEventListener("change", syncGuardian);
  });
  syncGuardian();

  var showPassword = P.passwordToggle(P.byId("register-show-password"));

  P.onSubmit(form, function () {
    P.clearErrors(form);
    var errors = P.checkFields(form);
    var pw = password.value;
    var weak = P.passwordError(password);
    if (weak) {
      errors.push(weak);
    }
    var email = form.elements.email.value.trim();
    if (ageNo.checked && guardianEmail.value.trim() && guardianEmail.value.trim().toLowerCase() === email.toLowerCase()) {
      errors.push({ controls: [guardianEmail], text: P.msg("jsErrGuardianSame") });
    }
    errors = errors.concat(P.checkConsents(form));
    if (errors.length) {
      P.reportErrors(status, errors);
      return null;
    }

    var age = form.querySelector("input[name=ageGroup]:checked").value;
    var body = {
      name: form.elements.name.value.trim(),
      email: email,
      username: form.elements.username.value.trim(),
      password: pw,
      ageGroup: age,
      locale: P.locale()
    };
    if (age === "under14") {
      body.guardianEmail = guardianEmail.value.trim();
    }
    var consents = [];
    optional.forEach(function (o) {
      var v = o.input.value.trim();
      if (v) {
        body[o.key] = v;
        consents.push(o.purpose);
      }
    });
    if (consents.length) {
      body.consents = consents;
    }

    P.setStatus(status, "info", P.msg("jsSending"));
    return P.api("POST", "/api/register", body).then(function (r) {
      if (!r.ok) {
        P.showProblem(form, status, r.problem);
        return;
      }
      // 202 check_email: the same answer whether or not the address already has an account.
      // The mail is sent a moment later; a child's guardian is asked once the child verified.
      registered = pw;
      P.setStatus(status, "", "");
      form.reset();
      syncGuardian();
      showPassword.reset();
      form.hidden = true;
      P.byId("register-intro").hidden = true;
      P.byId("register-signin").hidden = true;
      P.byId("verify-child-note").hidden = age !== "under14";
      code.show(email, P.msg("jsCheckEmail", { email: email }));
    });
  });
})();
