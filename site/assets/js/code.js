/* Privacy Portal: mailed codes and links (after strings.js, api.js and form.js). Adds to
   window.Portal:
   - fragmentToken(), keepFragmentOnLanguageSwitch(), dropFragment(), reloadOnNewToken(): the
     token of a mailed link (/verify/#token=..., /reset/#token=..., /guardian/#token=...), read
     from the URL fragment only;
   - codeForm(): the e-mail + code + password form (partials/form/verify-code.html, #verify-form)
     used by /verify/, /register/ and /signin/. */
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

  // reloadOnNewToken reloads the page when a mailed link is opened in it while it is open (pasted
  // into the address bar): only the fragment changes then, which loads nothing by itself. The
  // page's own changes to the address (dropFragment) fire no hashchange.
  function reloadOnNewToken() {
    window.addEventListener("hashchange", function () {
      if (fragmentToken()) {
        location.reload();
      }
    });
  }

  // codeForm wires the e-mail + code + password form (partials/form/verify-code.html). The API
  // takes the password chosen at registration with the code (or a mailed link's token), so that
  // proving an address never activates a password its owner did not choose. opts:
  // - password: a function returning the password the person already typed on this page (the
  //   register and sign-in pages); while it returns one, that is sent and the form's own
  //   password field is hidden. Without it (or while it returns ""), the field is shown and
  //   required (the /verify/ page).
  // - onVerified: replaces the "verified, now sign in" panel (the sign-in page signs in instead;
  //   the returned object's showDone() shows the panel).
  function codeForm(opts) {
    opts = opts || {};
    var form = byId("verify-form");
    if (!form) {
      return null;
    }
    var section = byId("verify-section");
    var status = byId("verify-status");
    var heading = byId("verify-heading");
    var intro = byId("verify-intro");
    var byCode = byId("verify-by-code");
    var email = byId("verify-email");
    var code = byId("verify-code");
    var password = byId("verify-password");
    var passwordField = byId("verify-password-field");
    var resend = byId("verify-resend");
    var useCode = byId("verify-use-code");
    var codeHeading = heading.textContent;
    var codeIntro = intro.textContent;
    // The token of a mailed link while the form uses it instead of the e-mail and code.
    var token = "";

    function handedPassword() {
      return opts.password ? String(opts.password() || "") : "";
    }

    // syncPassword shows the password field unless the page has handed over the password.
    function syncPassword() {
      passwordField.hidden = handedPassword() !== "";
    }

    // setMode switches between the e-mail + code (token "") and a mailed link's token.
    function setMode(t) {
      token = t;
      byCode.hidden = !!t;
      resend.hidden = !!t;
      useCode.hidden = !t;
      heading.textContent = t ? msg("jsVerifyLinkHeading") : codeHeading;
      intro.textContent = t ? msg("jsVerifyLinkIntro") : codeIntro;
    }

    function showDone() {
      byId("verify-entry").hidden = true;
      byId("verify-done").hidden = false;
      P.focusHeading(byId("verify-done-heading"));
    }

    function verified() {
      P.setStatus(status, "", "");
      password.value = "";
      if (token) {
        setMode("");
        dropFragment();
      }
      if (opts.onVerified) {
        opts.onVerified();
        return;
      }
      showDone();
    }

    // refused shows a 400 about the code or link: the API does not say whether the code, the
    // link or the password was wrong (nor whether the address has a registration), so neither
    // does the page. The message goes beside the code (or the password, for a link), and marks
    // the password field too when it is shown.
    function refused() {
      var controls = token ? [] : [code];
      if (!passwordField.hidden) {
        controls.push(password);
      }
      var text = msg(token ? "jsErrLinkOrPassword" : "jsErrCodeOrPassword");
      if (controls.length) {
        P.reportErrors(status, [{ controls: controls, text: text }]);
      } else {
        P.setStatus(status, "error", text);
      }
    }

    P.onSubmit(form, function () {
      P.clearErrors(form);
      syncPassword();
      var errors = P.checkFields(form);
      var bad = token ? null : P.codeError(code);
      if (bad) {
        errors.push(bad);
      }
      if (errors.length) {
        P.reportErrors(status, errors);
        return null;
      }
      var body = token ? { token: token } : { email: email.value.trim(), code: code.value.replace(/\s+/g, "") };
      body.password = handedPassword() || password.value;
      P.setStatus(status, "info", msg(token ? "jsVerifyChecking" : "jsSending"));
      return P.api("POST", "/api/verify", body).then(function (r) {
        if (r.ok) {
          verified();
        } else if (r.status === 400 && (r.problem.field === "code" || r.problem.field === "token")) {
          refused();
        } else {
          P.showProblem(form, status, r.problem);
        }
      });
    });

    P.runBusy(resend, form, function () {
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

    // From a mailed link, back to the e-mail and code (the link may have expired).
    useCode.addEventListener("click", function () {
      if (form.getAttribute("aria-busy") === "true") {
        return;
      }
      P.clearErrors(form);
      P.setStatus(status, "", "");
      setMode("");
      dropFragment();
      email.focus();
    });

    syncPassword();

    return {
      form: form,
      // show reveals the section with address filled in and moves focus to it.
      show: function (address, text) {
        if (address) {
          email.value = address;
        }
        setMode("");
        if (text) {
          intro.textContent = text;
        }
        syncPassword();
        section.hidden = false;
        byId("verify-entry").hidden = false;
        byId("verify-done").hidden = true;
        P.focusHeading(heading);
      },
      // useToken makes the form verify with a mailed link's token: it asks for the password
      // only, and posts {token, password} when the person sends it (never the token alone).
      // The token stays in the address (and the language links) until it is used or the
      // person goes back to the code.
      useToken: function (t) {
        keepFragmentOnLanguageSwitch();
        setMode(t);
        syncPassword();
        section.hidden = false;
      },
      showDone: showDone
    };
  }

  P.fragmentToken = fragmentToken;
  P.keepFragmentOnLanguageSwitch = keepFragmentOnLanguageSwitch;
  P.dropFragment = dropFragment;
  P.reloadOnNewToken = reloadOnNewToken;
  P.codeForm = codeForm;
})();
