/* /account/: shows everything GET /api/account returns (P15), edits it with PATCH /api/account
   (P16; a new address or username goes with the current password), confirms a new address with
   POST /api/account/email, changes the password with POST /api/account/password, signs out, and
   cancels the account (P03, P20: POST /api/requests {type: "cancellation", password, locale};
   on 201 the API has ended every session and the erasure runs, and the page opens
   /account/cancelled/).
   It lists the person's requests ("requests", newest first: type and status by the request pages'
   names) and the automated decisions recorded about them ("decisions", P22: each with its time,
   name, version of the rules, inputs and outcome). The page names the fields it knows; anything
   else the API returns is shown under "Other information", so nothing held about the person is
   left off the page. */
(function () {
  "use strict";
  var P = window.Portal;
  var page = P && P.byId("account-page");
  if (!page) {
    return;
  }
  var status = P.byId("account-status");
  var view = P.byId("account-view");
  var form = P.byId("account-form");
  var saveStatus = P.byId("account-save-status");
  var emailForm = P.byId("account-email-form");
  var emailStatus = P.byId("account-email-status");
  var currentPassword = P.byId("account-current-password");
  var passwordForm = P.byId("account-password-form");
  var passwordStatus = P.byId("account-password-status");
  var showNewPassword = P.passwordToggle(P.byId("account-password-show"));
  var cancelForm = P.byId("account-cancel-form");
  var cancelStatus = P.byId("account-cancel-status");
  var policyBase = page.getAttribute("data-policy") || "/policy/";
  var account = null;

  // The optional fields of the edit form, one per catalogue entry: {key (the JSON name in
  // "optional"), purpose, input, box}. Purposes and fields are named through the UI strings
  // (purpose:<id>, field:<name>), so this script names none of them.
  var OPTIONAL = P.optionalFields(form);
  var ACTIONS = {
    "profile.updated": "jsActionProfileUpdated",
    "password.changed": "jsActionPasswordChanged",
    "password.reset": "jsActionPasswordReset"
  };
  // Top-level and profile members this page shows in their own places.
  var KNOWN = ["subjectId", "status", "createdAt", "profile", "optional", "pendingEmail", "consents", "sessions", "audit", "requests", "decisions"];
  var KNOWN_PROFILE = ["name", "email", "username", "locale", "ageGroup"];

  // ---- small DOM helpers (form.js) ----

  var el = P.el;
  var timeEl = P.timeEl;

  function policyLink(version) {
    return P.policyLink(policyBase, version);
  }

  // label returns the UI string named by table[value], or the value itself (as code) when the
  // page has no name for it yet.
  function label(table, value) {
    var key = table[value];
    if (key && P.has(key)) {
      return document.createTextNode(P.msg(key));
    }
    return el("code", String(value));
  }

  // named returns the UI string prefix + value (e.g. "purpose:analytics"), or the value itself
  // (as code) when the page has no name for it.
  function named(prefix, value) {
    if (P.has(prefix + value)) {
      return document.createTextNode(P.msg(prefix + value));
    }
    return el("code", String(value));
  }

  // fieldName names a member of an audit entry's "fields": a field, or "consent:<purpose>" for
  // a consent given or withdrawn with the change.
  function fieldName(f) {
    var s = String(f);
    if (s.indexOf("consent:") === 0 && P.has("purpose:" + s.slice(8))) {
      return named("purpose:", s.slice(8));
    }
    return named("field:", s);
  }

  // anyValue shows a value the page has no special place for: text as text, the rest as JSON.
  function anyValue(v) {
    if (v == null || typeof v !== "object") {
      return document.createTextNode(v == null ? "" : String(v));
    }
    return el("pre", JSON.stringify(v, null, 2), "raw");
  }

  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (c) {
      var td = el("td");
      td.appendChild(c);
      tr.appendChild(td);
    });
    return tr;
  }

  function fillTable(id, items, toCells, columns) {
    var body = P.byId(id).tBodies[0];
    body.textContent = "";
    if (!Array.isArray(items) || !items.length) {
      var td = el("td", P.msg("jsNone"));
      td.colSpan = columns;
      var tr = el("tr");
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    items.forEach(function (item) {
      body.appendChild(row(toCells(item || {})));
    });
  }

  function extraRow(dl, name, value) {
    var div = el("div");
    div.setAttribute("data-extra", "");
    div.appendChild(el("dt", name));
    var dd = el("dd");
    dd.appendChild(anyValue(value));
    div.appendChild(dd);
    dl.appendChild(div);
  }

  function removeExtraRows(dl) {
    dl.querySelectorAll("[data-extra]").forEach(function (e) { e.remove(); });
  }

  // ---- showing the account ----

  function formatField(format, value) {
    if (value == null || value === "") {
      return document.createTextNode("");
    }
    switch (format) {
      case "date":
        return timeEl(value);
      case "code":
        return el("code", String(value));
      case "locale":
        return P.has("locale:" + value) ? document.createTextNode(P.msg("locale:" + value)) : el("code", String(value));
      case "ageGroup":
        return label({ "14+": "jsAgeAdult", "under14": "jsAgeChild" }, value);
      case "status":
        return label({ active: "jsStatusActive", pending: "jsStatusPending" }, value);
      default:
        return document.createTextNode(String(value));
    }
  }

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o && typeof o === "object" ? o[k] : undefined; }, obj);
  }

  function renderProfile(acc) {
    page.querySelectorAll("[data-field]").forEach(function (dd) {
      dd.textContent = "";
      dd.appendChild(formatField(dd.getAttribute("data-format"), lookup(acc, dd.getAttribute("data-field"))));
    });
    P.byId("account-pending-row").hidden = !acc.pendingEmail;
    var dl = P.byId("account-profile-data");
    removeExtraRows(dl);
    var profile = acc.profile || {};
    Object.keys(profile).forEach(function (k) {
      if (KNOWN_PROFILE.indexOf(k) < 0) {
        extraRow(dl, k, profile[k]);
      }
    });
  }

  function renderOptional(acc) {
    var optional = acc.optional || {};
    page.querySelectorAll("[data-optional]").forEach(function (dd) {
      var item = optional[dd.getAttribute("data-optional")];
      dd.textContent = "";
      if (!item || item.value == null || item.value === "") {
        dd.appendChild(el("span", P.msg("jsNotStored"), "muted"));
        return;
      }
      dd.appendChild(el("span", String(item.value), "value"));
      var note = el("span", null, "hint");
      note.appendChild(P.msgNodes("jsStoredWithConsent", { date: timeEl(item.consentedAt), version: policyLink(item.policyVersion) }));
      dd.appendChild(note);
    });
    var dl = P.byId("account-optional-data");
    removeExtraRows(dl);
    Object.keys(optional).forEach(function (k) {
      var known = OPTIONAL.some(function (o) { return o.key === k; });
      if (!known) {
        extraRow(dl, k, optional[k]);
      }
    });
  }

  function renderLists(acc) {
    fillTable("account-consents-table", acc.consents, function (c) {
      return [
        named("purpose:", c.purpose),
        document.createTextNode(P.msg(c.granted ? "jsConsentGranted" : "jsConsentWithdrawn")),
        timeEl(c.at),
        policyLink(c.policyVersion)
      ];
    }, 4);
    fillTable("account-sessions-table", acc.sessions, function (s) {
      var started = document.createDocumentFragment();
      started.appendChild(timeEl(s.createdAt));
      if (s.current) {
        started.appendChild(document.createTextNode(" "));
        started.appendChild(el("strong", P.msg("jsThisBrowser"), "badge"));
      }
      return [started, timeEl(s.expiresAt)];
    }, 2);
    fillTable("account-audit-table", acc.audit, function (a) {
      var fields = document.createDocumentFragment();
      (Array.isArray(a.fields) ? a.fields : []).forEach(function (f, i) {
        if (i) {
          fields.appendChild(document.createTextNode(P.msg("jsListSeparator")));
        }
        fields.appendChild(fieldName(f));
      });
      return [timeEl(a.at), label(ACTIONS, a.action), fields];
    }, 3);
  }

  // renderRequests lists the person's requests as the API gives them (newest first): the type
  // with its reference, the status, when it was received and when the reply is due.
  function renderRequests(acc) {
    var body = P.byId("account-requests-table").tBodies[0];
    body.textContent = "";
    var list = (Array.isArray(acc.requests) ? acc.requests : []).filter(function (r) { return r && typeof r === "object"; });
    if (!list.length) {
      var td = el("td", P.msg("jsReqNoRequests"));
      td.colSpan = 4;
      var tr = el("tr");
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    list.forEach(function (r) {
      var type = document.createDocumentFragment();
      type.appendChild(named("reqType:", r.type));
      if (r.id) {
        var ref = el("span", null, "hint");
        ref.appendChild(P.msgNodes("jsReqReference", { id: el("code", String(r.id)) }));
        type.appendChild(ref);
      }
      var tr = row([type, named("reqStatus:", r.status), timeEl(r.received), P.dateEl(r.due)]);
      tr.setAttribute("data-request", String(r.id || ""));
      body.appendChild(tr);
    });
  }

  // fact is one term and its value in a <dl class="facts">.
  function fact(dl, term, value) {
    var div = el("div");
    div.appendChild(el("dt", term));
    var dd = el("dd");
    dd.appendChild(value);
    div.appendChild(dd);
    dl.appendChild(div);
  }

  // renderDecisions shows each automated decision: when, which, the version of the rules that
  // made it, what it was decided from (a list of its inputs) and what it decided.
  function renderDecisions(acc) {
    var list = P.byId("account-decisions-list");
    list.textContent = "";
    var decisions = (Array.isArray(acc.decisions) ? acc.decisions : []).filter(function (d) { return d && typeof d === "object"; });
    decisions.forEach(function (d) {
      var dl = el("dl", null, "facts");
      fact(dl, P.msg("jsReqDecisionAt"), timeEl(d.at));
      fact(dl, P.msg("jsReqDecisionName"), el("code", String(d.name == null ? "" : d.name)));
      fact(dl, P.msg("jsReqDecisionLogic"), el("code", String(d.logicVersion == null ? "" : d.logicVersion)));
      var inputs = d.inputs && typeof d.inputs === "object" ? d.inputs : {};
      var keys = Object.keys(inputs);
      var from;
      if (keys.length) {
        from = el("dl", null, "inputs");
        keys.forEach(function (k) {
          var div = el("div");
          div.appendChild(el("dt", k));
          var dd = el("dd");
          dd.appendChild(anyValue(inputs[k]));
          div.appendChild(dd);
          from.appendChild(div);
        });
      } else {
        from = el("span", P.msg("jsNone"), "muted");
      }
      fact(dl, P.msg("jsReqDecisionInputs"), from);
      fact(dl, P.msg("jsReqDecisionOutcome"), document.createTextNode(String(d.outcome == null ? "" : d.outcome)));
      var li = el("li");
      li.appendChild(dl);
      list.appendChild(li);
    });
    list.hidden = !decisions.length;
    P.byId("account-decisions-none").hidden = !!decisions.length;
  }

  function renderOther(acc) {
    var dl = P.byId("account-other-data");
    dl.textContent = "";
    var extra = Object.keys(acc).filter(function (k) { return KNOWN.indexOf(k) < 0; });
    extra.forEach(function (k) { extraRow(dl, k, acc[k]); });
    P.byId("account-other").hidden = !extra.length;
    P.byId("account-toc-other").hidden = !extra.length;
  }

  function renderPendingEmail(acc) {
    var box = P.byId("account-email-confirm");
    box.hidden = !acc.pendingEmail;
    if (acc.pendingEmail) {
      P.byId("account-email-pending-text").textContent =
        P.msg("jsEmailCodeSent", { email: acc.pendingEmail, current: (acc.profile || {}).email || "" });
    }
  }

  // consentGiven reports whether purpose is granted now: the item is stored with it, or the
  // latest ledger entry for it grants it.
  function consentGiven(acc, o) {
    var item = (acc.optional || {})[o.key];
    if (item && item.value) {
      return true;
    }
    var latest = null;
    (acc.consents || []).forEach(function (c) {
      if (c && c.purpose === o.purpose && (!latest || String(c.at) >= String(latest.at))) {
        latest = c;
      }
    });
    return !!(latest && latest.granted);
  }

  function fillForm(acc) {
    var profile = acc.profile || {};
    P.clearErrors(form);
    form.elements.name.value = profile.name || "";
    form.elements.username.value = profile.username || "";
    form.elements.email.value = profile.email || "";
    var select = form.elements.locale;
    select.value = profile.locale || P.locale();
    if (select.value !== profile.locale && profile.locale) {
      // A language this site has no page for: keep it selectable, so saving does not change it.
      var opt = el("option", profile.locale);
      opt.value = profile.locale;
      select.appendChild(opt);
      select.value = profile.locale;
    }
    OPTIONAL.forEach(function (o) {
      var item = (acc.optional || {})[o.key];
      o.input.value = item && item.value != null ? String(item.value) : "";
      o.box.checked = !!(item && item.value);
    });
    currentPassword.value = "";
    syncCurrentPassword();
  }

  function render(acc) {
    account = acc;
    renderProfile(acc);
    renderPendingEmail(acc);
    renderOptional(acc);
    renderLists(acc);
    renderRequests(acc);
    renderDecisions(acc);
    renderOther(acc);
    fillForm(acc);
    P.byId("account-signed-out").hidden = true;
    view.hidden = false;
  }

  // signedOut hides the account and offers to sign in; key names the heading.
  function signedOut(key) {
    account = null;
    view.hidden = true;
    form.reset();
    passwordForm.reset();
    showNewPassword.reset();
    cancelForm.reset();
    P.byId("account-signed-out-heading").textContent = P.msg(key);
    P.byId("account-signed-out").hidden = false;
    P.setStatus(status, "", "");
    return key === "signInHeading" ? null : P.byId("account-signed-out-heading");
  }

  function load() {
    P.setStatus(status, "info", P.msg("jsLoading"));
    return P.api("GET", "/api/account").then(function (r) {
      if (r.status === 401) {
        signedOut("signInHeading");
        return false;
      }
      if (!r.ok || !r.data || typeof r.data !== "object") {
        P.setStatus(status, "error", r.ok ? P.msg("jsErrUnexpected") : r.problem.detail);
        return false;
      }
      P.setStatus(status, "", "");
      render(r.data);
      return true;
    });
  }

  // ---- editing ----

  // showProblem is P.showProblem, with the page's own words for a password that is not right
  // (the API's detail is a short English phrase): currentPassword, or the cancellation's password.
  function showProblem(f, where, r) {
    var field = f.elements.namedItem(r.problem.field);
    if (r.status === 400 && /^(currentPassword|password)$/.test(r.problem.field) && field && field.value) {
      P.reportErrors(where, [{ controls: [field], text: P.msg("jsErrCurrentPassword") }]);
      return;
    }
    P.showProblem(f, where, r.problem);
  }

  // identityChanged reports whether the form changes the sign-in details (the e-mail address or
  // the username), which the API takes only with the current password.
  function identityChanged() {
    var profile = (account && account.profile) || {};
    return form.elements.username.value.trim() !== (profile.username || "") ||
      form.elements.email.value.trim().toLowerCase() !== String(profile.email || "").toLowerCase();
  }

  // The current password is required while the address or the username is being changed.
  function syncCurrentPassword() {
    currentPassword.required = identityChanged();
  }
  form.elements.username.addEventListener("input", syncCurrentPassword);
  form.elements.email.addEventListener("input", syncCurrentPassword);

  P.onSubmit(form, function () {
    if (!account) {
      return null;
    }
    P.clearErrors(form);
    P.setStatus(saveStatus, "", "");
    syncCurrentPassword();
    var errors = P.checkFields(form).concat(P.checkConsents(form));
    if (errors.length) {
      P.reportErrors(saveStatus, errors);
      return null;
    }
    var profile = account.profile || {};
    var body = {};
    ["name", "username"].forEach(function (k) {
      var v = form.elements[k].value.trim();
      if (v !== (profile[k] || "")) {
        body[k] = v;
      }
    });
    if (form.elements.locale.value !== (profile.locale || "")) {
      body.locale = form.elements.locale.value;
    }
    // A new address (entering the pending one again asks for a new code: there is no other resend).
    var email = form.elements.email.value.trim();
    if (email.toLowerCase() !== String(profile.email || "").toLowerCase()) {
      body.email = email;
    }
    var consents = [];
    OPTIONAL.forEach(function (o) {
      var item = (account.optional || {})[o.key];
      var was = item && item.value != null ? String(item.value) : "";
      var v = o.input.value.trim();
      if (v === was) {
        return;
      }
      body[o.key] = v; // "" deletes it
      if (v && !consentGiven(account, o)) {
        consents.push(o.purpose);
      }
    });
    if (consents.length) {
      body.consents = consents;
    }
    if (!Object.keys(body).length) {
      P.setStatus(saveStatus, "info", P.msg("jsNothingToSave"));
      return null;
    }
    if (body.email !== undefined || body.username !== undefined) {
      body.currentPassword = currentPassword.value;
    }

    P.setStatus(saveStatus, "info", P.msg("jsSending"));
    return P.api("PATCH", "/api/account", body).then(function (r) {
      if (r.status === 401) {
        P.focusHeading(signedOut("signInHeading") || P.byId("account-signed-out-heading"));
        return;
      }
      if (!r.ok) {
        showProblem(form, saveStatus, r);
        return;
      }
      var shown = r.data && typeof r.data === "object" && r.data.profile ? Promise.resolve(render(r.data)) : load();
      return shown.then(function () {
        P.setStatus(saveStatus, "success", P.msg("jsSaved"));
        if (body.email && account && account.pendingEmail) {
          P.setStatus(emailStatus, "", "");
          P.focusHeading(P.byId("account-email-confirm-heading"));
        }
      });
    });
  });

  // The code sent to a new address (POST /api/account/email).
  P.onSubmit(emailForm, function () {
    P.clearErrors(emailForm);
    var codeInput = P.byId("account-email-code");
    var errors = P.checkFields(emailForm);
    var bad = P.codeError(codeInput);
    if (bad) {
      errors.push(bad);
    }
    if (errors.length) {
      P.reportErrors(emailStatus, errors);
      return null;
    }
    P.setStatus(emailStatus, "info", P.msg("jsSending"));
    var newEmail = account && account.pendingEmail;
    return P.api("POST", "/api/account/email", { code: codeInput.value.replace(/\s+/g, "") }).then(function (r) {
      if (r.status === 401) {
        P.focusHeading(signedOut("signInHeading") || P.byId("account-signed-out-heading"));
        return;
      }
      if (!r.ok) {
        P.showProblem(emailForm, emailStatus, r.problem);
        return;
      }
      emailForm.reset();
      return load().then(function () {
        var now = account && account.profile ? account.profile.email : newEmail;
        P.setStatus(status, "success", P.msg("jsEmailConfirmed", { email: now || "" }));
        P.byId("account-profile-heading").setAttribute("tabindex", "-1");
        P.focusHeading(P.byId("account-profile-heading"));
      });
    });
  });

  // ---- the password ----

  P.onSubmit(passwordForm, function () {
    P.clearErrors(passwordForm);
    P.setStatus(passwordStatus, "", "");
    var errors = P.checkFields(passwordForm);
    var weak = P.passwordError(passwordForm.elements.newPassword);
    if (weak) {
      errors.push(weak);
    }
    if (errors.length) {
      P.reportErrors(passwordStatus, errors);
      return null;
    }
    P.setStatus(passwordStatus, "info", P.msg("jsSending"));
    return P.api("POST", "/api/account/password", {
      currentPassword: passwordForm.elements.currentPassword.value,
      newPassword: passwordForm.elements.newPassword.value
    }).then(function (r) {
      if (r.status === 401) {
        P.focusHeading(signedOut("signInHeading") || P.byId("account-signed-out-heading"));
        return;
      }
      if (!r.ok) {
        showProblem(passwordForm, passwordStatus, r);
        return;
      }
      passwordForm.reset();
      showNewPassword.reset();
      // Every other session has ended: show the sessions (and the history) as they are now.
      return load().then(function () {
        P.setStatus(passwordStatus, "success", P.msg("jsPasswordChanged"));
      });
    });
  });

  // ---- cancelling the account (P03, P20) ----

  // The box saying it cannot be undone must be ticked (form.js checks no single box itself).
  // Nothing is erased unless the API takes the password: a 400 names it, and nothing changes.
  P.onSubmit(cancelForm, function () {
    P.clearErrors(cancelForm);
    P.setStatus(cancelStatus, "", "");
    var box = cancelForm.elements.confirm;
    var errors = P.checkFields(cancelForm);
    if (!box.checked) {
      errors.push({ controls: [box], text: box.getAttribute("data-required-msg") });
    }
    if (errors.length) {
      P.reportErrors(cancelStatus, errors);
      return null;
    }
    P.setStatus(cancelStatus, "info", P.msg("jsSending"));
    return P.api("POST", "/api/requests", {
      type: "cancellation",
      password: cancelForm.elements.password.value,
      locale: P.locale()
    }).then(function (r) {
      if (r.status === 401) {
        P.focusHeading(signedOut("signInHeading") || P.byId("account-signed-out-heading"));
        return;
      }
      if (!r.ok) {
        showProblem(cancelForm, cancelStatus, r);
        return;
      }
      // 201: the account is closed and its sessions ended (the cookie with them).
      cancelForm.reset();
      window.location.assign(cancelForm.getAttribute("data-done"));
    });
  });

  // ---- signing out ----

  function signOutButton(id, path, key) {
    var button = P.byId(id);
    button.addEventListener("click", function () {
      if (view.getAttribute("aria-busy") === "true") {
        return;
      }
      view.setAttribute("aria-busy", "true");
      P.api("DELETE", path).then(function (r) {
        view.removeAttribute("aria-busy");
        if (r.ok || r.status === 401) {
          P.focusHeading(signedOut(key));
        } else {
          P.setStatus(status, "error", r.problem.detail);
        }
      });
    });
  }
  signOutButton("account-signout", "/api/session", "jsSignedOut");
  signOutButton("account-signout-all", "/api/sessions", "jsSignedOutAll");

  load();
})();
