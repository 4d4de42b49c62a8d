/* /requests/status/: a request's status, by the link in its receipt (after strings.js, api.js,
   form.js and code.js). The link is /requests/status/#id=<id>&token=<token>: in the fragment, so
   the token never reaches the site's logs (code.js reads it, and carries it over the language
   switch). A link written with ?id=...&token=... works too; its values are moved into the
   fragment at once. The page shows GET /api/requests/{id}?token=...: type, status, received
   and due dates, each step with its time, the outcome, a refusal's ground (in the policy's
   words: the page's reqGround:<ground> strings) and reason, an erasure's outcome ("erasure":
   erasing, or erased on a date with what was removed, the recipients told by their catalogue
   names, the check after it and when the backups forget it), and how to complain. A 404 (any
   other id or token) says the link is not valid. The link is long-lived and may be bookmarked,
   so the fragment stays in the address. */
(function () {
  "use strict";
  var P = window.Portal;
  var page = P && P.byId("request-status-page");
  if (!page) {
    return;
  }
  var byId = P.byId;
  var msg = P.msg;
  var el = P.el;
  var dateEl = P.dateEl; // a due date (form.js)
  var status = byId("request-status-status");

  function named(prefix, value) {
    if (P.has(prefix + value)) {
      return document.createTextNode(msg(prefix + value));
    }
    return el("code", String(value == null ? "" : value));
  }

  function fill(id, node) {
    var target = byId(id);
    target.textContent = "";
    target.appendChild(node);
  }

  // param reads name from "a=1&b=2" (by hand: URLSearchParams would turn "+" into a space).
  function param(s, name) {
    var parts = s.replace(/^[#?]/, "").split("&");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(name + "=") === 0) {
        var v = parts[i].slice(name.length + 1);
        try {
          return decodeURIComponent(v);
        } catch (e) {
          return v;
        }
      }
    }
    return "";
  }

  // A ?id=...&token=... link: into the fragment, out of the address bar's query.
  if (!location.hash && param(location.search, "token")) {
    history.replaceState(null, "", location.pathname + "#id=" + encodeURIComponent(param(location.search, "id")) +
      "&token=" + encodeURIComponent(param(location.search, "token")));
  }
  var id = param(location.hash, "id");
  var token = P.fragmentToken();
  P.keepFragmentOnLanguageSwitch();
  P.reloadOnNewToken();

  // renderErasure shows the answer's "erasure" (present once the person's information is being
  // or was erased; the answer then comes from the record that identifies no one).
  function renderErasure(e) {
    var section = byId("request-status-erasure");
    section.hidden = !e;
    if (!e) {
      return;
    }
    var state = byId("request-status-erasure-state");
    var done = e.state === "erased";
    state.textContent = "";
    if (done) {
      state.appendChild(P.msgNodes("jsReqErased", { date: P.timeEl(e.erasedAt) }));
    } else {
      state.textContent = msg(e.state === "failed" ? "jsReqErasureFailed" : "jsReqErasing");
    }
    byId("request-status-erasure-facts").hidden = !done;
    fill("request-status-erasure-items", document.createTextNode(String(e.items || 0)));
    fill("request-status-erasure-objects", document.createTextNode(String(e.objects || 0)));
    var told = document.createDocumentFragment();
    var recipients = Array.isArray(e.recipientsTold) ? e.recipientsTold : [];
    recipients.forEach(function (r, i) {
      if (i) {
        told.appendChild(document.createTextNode(msg("jsListSeparator")));
      }
      told.appendChild(named("recipient:", r));
    });
    fill("request-status-erasure-recipients", recipients.length ? told : document.createTextNode(msg("jsReqErasureNoRecipients")));
    byId("request-status-erasure-verified").textContent = msg(e.verified ? "jsReqErasureVerified" : "jsReqErasureUnverified");
    // The day the backups have forgotten it: the erasure's date plus the backup window.
    var by = byId("request-status-erasure-backups-by");
    var days = parseInt(section.getAttribute("data-backup-days"), 10);
    var at = Date.parse(e.erasedAt);
    by.textContent = "";
    if (done && days > 0 && !isNaN(at)) {
      by.appendChild(P.msgNodes("jsReqErasureBackupsBy", { date: dateEl(new Date(at + days * 864e5).toISOString()) }));
    }
  }

  function invalid() {
    P.setStatus(status, "", "");
    byId("request-status-view").hidden = true;
    byId("request-status-invalid").hidden = false;
  }

  function render(d) {
    fill("request-status-type", named("reqType:", d.type));
    fill("request-status-state", named("reqStatus:", d.status));
    fill("request-status-received", P.timeEl(d.received));
    fill("request-status-due", dateEl(d.due));
    fill("request-status-id", el("code", String(d.id || id)));

    var outcome = typeof d.outcome === "string" ? d.outcome.trim() : "";
    byId("request-status-outcome").textContent = outcome;
    byId("request-status-outcome-section").hidden = !outcome;

    var refusal = d.refusal && typeof d.refusal === "object" ? d.refusal : null;
    byId("request-status-refusal").hidden = !refusal;
    if (refusal) {
      fill("request-status-ground", named("reqGround:", refusal.ground));
      byId("request-status-reason").textContent = String(refusal.reason || "");
    }

    renderErasure(d.erasure && typeof d.erasure === "object" ? d.erasure : null);

    var steps = byId("request-status-steps");
    steps.textContent = "";
    (Array.isArray(d.steps) ? d.steps : []).forEach(function (s) {
      if (!s || typeof s !== "object") {
        return;
      }
      var li = el("li");
      var name = el("strong");
      name.appendChild(named("reqStatus:", s.status));
      li.appendChild(P.msgNodes("jsReqStep", { status: name, time: P.timeEl(s.at) }));
      steps.appendChild(li);
    });
    byId("request-status-steps-section").hidden = !steps.firstChild;

    // The complaint starts with this request's reference.
    var complain = byId("request-status-complain-link");
    complain.href = complain.getAttribute("href") + "&about=" + encodeURIComponent(String(d.id || id));

    byId("request-status-invalid").hidden = true;
    byId("request-status-view").hidden = false;
  }

  if (!id || !token) {
    invalid();
    return;
  }
  P.setStatus(status, "info", msg("jsReqLoading"));
  P.api("GET", "/api/requests/" + encodeURIComponent(id) + "?token=" + encodeURIComponent(token)).then(function (r) {
    if (r.status === 404) {
      invalid();
      return;
    }
    if (!r.ok || !r.data || typeof r.data !== "object") {
      P.setStatus(status, "error", r.ok ? msg("jsErrUnexpected") : r.problem.detail);
      return;
    }
    P.setStatus(status, "", "");
    render(r.data);
  });
})();
