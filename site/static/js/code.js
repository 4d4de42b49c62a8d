/* Privacy Portal: mailed codes and links (after strings.js, api.js and form.js). Adds to
   window.Portal:
   - fragmentToken(), keepFragmentOnLanguageSwitch(), dropFragment(): the token of a mailed link
     (/verify/#token=..., /guardian/#token=...), read from the URL fragment only;
   - codeForm(): the e-mail + code form (partials/form/verify-code.html, #verify-form) used by
     /verify/, /register/ and /signin/. */
(function () {
  "use strict";
  var P = window.Portal;
  var byId = P.byId;
  var msg = P.msg;

  // fragmentToken returns token from a mailed link's fragment (#token=...): the fragment is
  // never sent to a server, so the token stays out of every log. Read by hand rather than with
  // URLSearchParams, which would turn a "+" into a space.
  function fragmentToken() {
    var parts = location.hash.replace(/^#/, "").split("&");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf("token=") === 0) {
        try {
          return decodeURIComponent(parts[i].slice(6));
        } catch (e) {
          return parts[i].slice(6);
        }
      }
    }
    return "";
  }

  // keepFragmentOnLanguageSwitch makes the language links carry the #token=... of a mailed
  // link, so switching language does not lose it.
  function keepFragmentOnLanguageSwitch() {
    document.querySelectorAll(".lang-switch a[href]").forEach(function (a) {
      var base = a.getAttribute("data-href") || a.getAttribute("href");
      a.setAttribute("data-href", base);
      a.setAttribute("href", base + location.hash);
    });
  }

  // dropFragment removes a used token from the address bar and the history entry.
  function dropFragment() {
    if (location.hash) {
      history.replaceState(null, "", location.pathname + location.search);
    }
    keepFragmentOnLanguageSwitch();
  }

  // codeForm wires the e-mail + code form (partials/form/verify-code.html). opts.onVerified, if
  // given, replaces the "verified, now sign in" panel (the sign-in page signs in instead).
  function codeForm(opts) {
    opts = opts || {};
    var form = byId("verify-form");
    if (!form) {
      return null;
    }
    var section = byId("verify-section");
    var status = byId("verify-status");
    var email = byId("verify-email");
    var code = byId("verify-code");

    function verified() {
      P.setStatus(status, "", "");
      if (opts.onVerified) {
        opts.onVerified();
        return;
      }
      byId("verify-entry").hidden = true;
      byId("verify-done").hidden = false;
      P.focusHeading(byId("verify-done-heading"));
    }

    P.onSubmit(form, function () {
      P.clearErrors(form);
      var errors = P.checkFields(form);
      var bad = P.codeError(code);
      if (bad) {
        errors.push(bad);
      }
      if (errors.length) {
        P.reportErrors(status, errors);
        return null;
      }
      P.setStatus(status, "info", msg("jsSending"));
      return P.api("POST", "/api/verify", { email: email.value.trim(), code: code.value.replace(/\s+/g, "") }).then(function (r) {
        if (r.ok) {
          verified();
        } else {
          P.showProblem(form, status, r.problem);
        }
      });
    });

    P.runBusy(byId("verify-resend"), form, function () {
      P.clearErrors(form);
      var errors = P.checkFields(form).filter(function (e) { return e.controls[0] === email; });
      if (errors.length) {
        P.reportErrors(status, errors);
        return null;
      }
      P.setStatus(status, "info", msg("jsSending"));
      var address = email.value.trim();
      return P.api("POST", "/api/verify/resend", { email: address }).then(function (r) {
        if (r.ok) {
          P.setStatus(status, "success", msg("jsCodeResent", { email: address }));
          code.focus();
        } else {
          P.showProblem(form, status, r.problem);
        }
      });
    });

    return {
      form: form,
      // show reveals the section with address filled in and moves focus to it.
      show: function (address, intro) {
        if (address) {
          email.value = address;
        }
        if (intro) {
          byId("verify-intro").textContent = intro;
        }
        section.hidden = false;
        byId("verify-entry").hidden = false;
        byId("verify-done").hidden = true;
        P.focusHeading(byId("verify-heading"));
      },
      // verifyToken posts the token from a mailed link.
      verifyToken: function (token) {
        P.setStatus(status, "info", msg("jsVerifyChecking"));
        P.setBusy(form, true);
        return P.api("POST", "/api/verify", { token: token }).then(function (r) {
          P.setBusy(form, false);
          // A refused token is spent; after a network or server failure, keep it for a reload.
          if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429)) {
            dropFragment();
          }
          if (r.ok) {
            verified();
          } else {
            P.setStatus(status, "error", r.problem.detail + " " + msg("jsUseCodeInstead"));
          }
        });
      }
    };
  }

  P.fragmentToken = fragmentToken;
  P.keepFragmentOnLanguageSwitch = keepFragmentOnLanguageSwitch;
  P.dropFragment = dropFragment;
  P.codeForm = codeForm;
})();
