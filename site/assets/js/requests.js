/* /requests/: the data-subject request form (after strings.js, api.js and form.js).
   - GET /api/account says whether the visitor is signed in (200) or not (401): signed in, the
     e-mail field goes and the password is asked for deletion, cancellation and copy; the
     person's requests are listed (GET /api/requests, newest first).
   - Each type's radio names the fields it needs (data-fields); the blocks holding them
     (data-field) are shown for the chosen type only, so form.js checks only what is shown.
   - POST /api/requests: 202 (a visitor) shows the code step, which POSTs
     /api/requests/{id}/verify {"code"}; 201/200 shows "confirmed" with what happens next.
   - ?type=<type> preselects a type; ?about=<id> starts the details with that request.
   The types, grounds and statuses are the page's (partials/requests/lists.html): this script
   names none of them. */
(function () {
  "use strict";
  var P = window.Portal;
  var page = P && P.byId("requests-page");
  if (!page) {
    return;
  }
  var byId = P.byId;
  var msg = P.msg;
  var el = P.el;
  var form = byId("requests-form");
  var formSection = byId("requests-form-section");
  var formStatus = byId("requests-form-status");
  var codeSection = byId("requests-code-section");
  var codeForm = byId("requests-code-form");
  var codeStatus = byId("requests-code-status");
  var code = byId("requests-code");
  var done = byId("requests-done");
  var details = byId("requests-details");
  var detailsHint = byId("requests-details-hint");
  var count = byId("requests-details-count");
  var countText = count.textContent;
  var email = byId("requests-email");
  var password = byId("requests-password");
  var listSection = byId("requests-list-section");
  var listStatus = byId("requests-list-status");
  var radios = Array.prototype.slice.call(form.querySelectorAll('input[name="type"]'));
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-field], [data-visitor]"));
  var showPassword = P.passwordToggle(byId("requests-show-password"));
  var max = parseInt(details.getAttribute("data-maxlength"), 10) || 2000;

  var signedIn = false;
  var pending = null; // a visitor's request waiting for its code: {id, type}

  var dateEl = P.dateEl; // a due date (form.js)
  var numberFormat = null;
  try {
    numberFormat = new Intl.NumberFormat(P.locale());
  } catch (e) {
    numberFormat = null;
  }

  function num(n) {
    return numberFormat ? numberFormat.format(n) : String(n);
  }

  // named is the page's name for a value the API sends (reqType:<type>, reqStatus:<status>...),
  // or the value itself, as code, when the page has none.
  function named(prefix, value) {
    if (P.has(prefix + value)) {
      return document.createTextNode(msg(prefix + value));
    }
    return el("code", String(value == null ? "" : value));
  }

  function shown(elem) {
    return !elem.closest("[hidden]");
  }

  // characters counts as the API does: code points, not UTF-16 units.
  function characters(s) {
    return Array.from ? Array.from(s).length : s.length;
  }

  // ---- the form ----

  function chosen() {
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].checked) {
        return radios[i];
      }
    }
    return null;
  }

  function fieldsOf(radio) {
    return radio ? (radio.getAttribute("data-fields") || "").split(/\s+/).filter(Boolean) : [];
  }

  // sync shows the fields the chosen type needs, and the e-mail address unless signed in.
  function sync() {
    var radio = chosen();
    var fields = fieldsOf(radio);
    blocks.forEach(function (b) {
      if (b.hasAttribute("data-visitor")) {
        b.hidden = signedIn;
        return;
      }
      b.hidden = fields.indexOf(b.getAttribute("data-field")) < 0 || (b.hasAttribute("data-signed-in") && !signedIn);
    });
    var hint = radio && detailsHint.getAttribute("data-hint-" + radio.value);
    if (hint) {
      detailsHint.textContent = hint;
    }
  }

  // The count is written a moment after typing stops: it is a live region, and a screen reader
  // should not read it out at every key.
  var countTimer = 0;
  function showCount() {
    var n = characters(details.value);
    if (!n) {
      count.textContent = countText;
    } else if (n > max) {
      count.textContent = msg("jsReqCountOver", { count: num(n - max) });
    } else {
      count.textContent = msg("jsReqCount", { count: num(n), max: num(max) });
    }
  }
  details.addEventListener("input", function () {
    window.clearTimeout(countTimer);
    countTimer = window.setTimeout(showCount, 350);
  });

  radios.forEach(function (r) {
    r.addEventListener("change", sync);
  });

  function signedInNow(account) {
    signedIn = true;
    var address = account && account.profile && account.profile.email;
    var text = byId("requests-signed-in-text");
    text.textContent = "";
    text.appendChild(P.msgNodes("jsReqSignedIn", { email: el("strong", String(address || "")) }));
    byId("requests-signed-in").hidden = false;
    byId("requests-signed-out").hidden = true;
    sync();
    loadList();
  }

  function signedOutNow() {
    signedIn = false;
    byId("requests-signed-in").hidden = true;
    byId("requests-signed-out").hidden = false;
    listSection.hidden = true;
    sync();
  }

  P.onSubmit(form, function () {
    P.clearErrors(form);
    sync();
    var errors = P.checkFields(form);
    var n = characters(details.value.trim());
    if (shown(details) && n > max) {
      errors.push({ controls: [details], text: msg("jsReqErrTooLong", { count: num(n - max), max: num(max) }) });
    }
    if (errors.length) {
      P.reportErrors(formStatus, errors);
      return null;
    }
    var radio = chosen();
    var body = { type: radio.value };
    if (shown(details)) {
      body.details = details.value.trim();
    }
    var ground = form.querySelector('input[name="ground"]:checked');
    if (ground && shown(ground)) {
      body.ground = ground.value;
    }
    var third = byId("requests-third-party");
    if (shown(third) && third.value.trim()) {
      body.thirdParty = third.value.trim();
    }
    if (signedIn) {
      if (shown(password)) {
        body.password = password.value;
      }
    } else {
      body.email = email.value.trim();
      body.locale = P.locale();
    }
    P.setStatus(formStatus, "info", msg("jsSending"));
    return P.api("POST", "/api/requests", body).then(function (r) {
      var data = r.data && typeof r.data === "object" ? r.data : {};
      if (r.ok && (r.status === 202 || data.status === "check_email")) {
        codeStep(String(data.request || ""), body.email, body.type);
      } else if (r.ok) {
        confirmed(String(data.request || ""), body.type, data);
      } else if (r.status === 401 && signedIn) {
        signedOutNow();
        P.setStatus(formStatus, "error", msg("jsReqSignedOutNow"));
        email.focus();
      } else {
        P.showProblem(form, formStatus, r.problem);
      }
    });
  });

  // ---- a visitor's code ----

  function codeStep(id, address, type) {
    pending = { id: id, type: type };
    P.setStatus(formStatus, "", "");
    byId("requests-code-intro").textContent = msg("jsReqCodeSent", { email: address });
    code.value = "";
    P.clearErrors(codeForm);
    P.setStatus(codeStatus, "", "");
    formSection.hidden = true;
    codeSection.hidden = false;
    P.focusHeading(byId("requests-code-heading"));
  }

  P.onSubmit(codeForm, function () {
    P.clearErrors(codeForm);
    var errors = P.checkFields(codeForm);
    var bad = P.codeError(code);
    if (bad) {
      errors.push(bad);
    }
    if (errors.length) {
      P.reportErrors(codeStatus, errors);
      return null;
    }
    P.setStatus(codeStatus, "info", msg("jsSending"));
    var path = "/api/requests/" + encodeURIComponent(pending ? pending.id : "") + "/verify";
    return P.api("POST", path, { code: code.value.replace(/\s+/g, "") }).then(function (r) {
      if (r.ok) {
        confirmed(pending.id, pending.type, r.data);
      } else {
        P.showProblem(codeForm, codeStatus, r.problem);
      }
    });
  });

  // Back to the form, as it was, to send it again for a new code (a request's code is not
  // sent again: a new intake is a new request).
  byId("requests-code-restart").addEventListener("click", function () {
    if (codeForm.getAttribute("aria-busy") === "true") {
      return;
    }
    pending = null;
    P.setStatus(codeStatus, "", "");
    codeSection.hidden = true;
    formSection.hidden = false;
    P.focusHeading(byId("requests-form-heading"));
    P.setStatus(formStatus, "info", msg("jsReqRestart"));
  });

  // ---- confirmed ----

  function showDue(due) {
    var p = byId("requests-done-due");
    p.textContent = "";
    if (due) {
      p.appendChild(P.msgNodes("jsReqDue", { date: dateEl(due) }));
    }
    p.hidden = !due;
  }

  function confirmed(id, type, data) {
    pending = null;
    password.value = "";
    showPassword.reset();
    P.setStatus(formStatus, "", "");
    P.setStatus(codeStatus, "", "");
    var next = byId("requests-done-next");
    next.hidden = !P.has("reqNext:" + type);
    next.textContent = next.hidden ? "" : msg("reqNext:" + type);
    var ref = byId("requests-done-ref");
    ref.textContent = "";
    if (id) {
      ref.appendChild(P.msgNodes("jsReqReference", { id: el("code", id) }));
    }
    ref.hidden = !id;
    showDue(data && typeof data === "object" ? data.due : "");
    formSection.hidden = true;
    codeSection.hidden = true;
    done.hidden = false;
    P.focusHeading(byId("requests-done-heading"));
    if (signedIn) {
      loadList().then(function (list) {
        (list || []).forEach(function (req) {
          if (req.id === id && req.due) {
            showDue(req.due);
          }
        });
      });
    }
  }

  byId("requests-another").addEventListener("click", function () {
    form.reset();
    P.clearErrors(form);
    count.textContent = countText;
    done.hidden = true;
    formSection.hidden = false;
    sync();
    P.focusHeading(byId("requests-form-heading"));
  });

  // ---- the signed-in list ----

  function received(req) {
    var t = Date.parse(req.received);
    return isNaN(t) ? 0 : t;
  }

  function renderList(list) {
    var body = byId("requests-list").tBodies[0];
    body.textContent = "";
    if (!list.length) {
      var td = el("td", msg("jsReqNoRequests"));
      td.colSpan = 4;
      var empty = el("tr");
      empty.appendChild(td);
      body.appendChild(empty);
      return;
    }
    list.forEach(function (req) {
      var state = document.createDocumentFragment();
      state.appendChild(named("reqStatus:", req.status));
      if (req.refusal && req.refusal.ground) {
        var why = el("span", null, "hint");
        why.appendChild(named("reqGround:", req.refusal.ground));
        state.appendChild(why);
      }
      var tr = el("tr");
      tr.setAttribute("data-request", String(req.id || ""));
      [named("reqType:", req.type), state, P.timeEl(req.received), dateEl(req.due)].forEach(function (c) {
        var cell = el("td");
        cell.appendChild(c);
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
  }

  // loadList shows the person's requests, newest first, and resolves to them (null on error).
  function loadList() {
    listSection.hidden = false;
    P.setStatus(listStatus, "info", msg("jsReqListLoading"));
    return P.api("GET", "/api/requests").then(function (r) {
      if (r.status === 401) {
        signedOutNow();
        P.setStatus(listStatus, "", "");
        return null;
      }
      if (!r.ok) {
        P.setStatus(listStatus, "error", r.problem.detail);
        return null;
      }
      // A list, or an object holding one as "requests".
      var raw = Array.isArray(r.data) ? r.data : (r.data && Array.isArray(r.data.requests) ? r.data.requests : []);
      var list = raw.filter(function (req) { return req && typeof req === "object"; })
        .map(function (req, i) { return { req: req, i: i }; })
        .sort(function (a, b) { return received(b.req) - received(a.req) || a.i - b.i; })
        .map(function (x) { return x.req; });
      P.setStatus(listStatus, "", "");
      renderList(list);
      return list;
    });
  }

  // ---- start ----

  var query = new URLSearchParams(window.location.search);
  radios.forEach(function (r) {
    if (r.value === query.get("type")) {
      r.checked = true;
    }
  });
  var about = query.get("about") || "";
  if (/^[\w.:~+=\/-]{1,200}$/.test(about)) {
    details.value = msg("jsReqAbout", { id: about });
    showCount();
  }
  // The other language's page keeps the preselected type.
  if (window.location.search) {
    document.querySelectorAll(".lang-switch a[hreflang]").forEach(function (a) {
      a.setAttribute("href", a.getAttribute("href").split("?")[0] + window.location.search);
    });
  }
  sync();

  P.api("GET", "/api/account").then(function (r) {
    if (r.ok && r.data && typeof r.data === "object") {
      signedInNow(r.data);
    } else {
      // 401, or the account could not be read: the visitor's form works for everyone.
      signedOutNow();
    }
  });
})();
