/* /consent/: the consent centre (P05, P06, P10, P18, P19). GET /api/consent gives, for every
   purpose, whether it is granted, since when and how, whether it is new since the policy version
   the person accepted, and whether the browser's GPC/DNT signal turned it off; the page (rendered
   from catalog/catalog.json: one checkbox per non-essential purpose, data-purpose its id) shows
   it. "Save" PUTs only what changed, {"choices": {...}, "source": "form"}, and offers the
   receipt; the ledger is a table, oldest first, each entry with its receipt. The banner's
   analytics choice follows a change made here (window.PortalCookies.record). This script names
   no purpose: they are the page's. */
(function () {
  "use strict";
  var P = window.Portal;
  var page = P && P.byId("consent-page");
  if (!page) {
    return;
  }
  var status = P.byId("consent-status");
  var view = P.byId("consent-view");
  var form = P.byId("consent-form");
  var saveStatus = P.byId("consent-save-status");
  var policyBase = page.getAttribute("data-policy") || "/policy/";
  var toggles = Array.prototype.slice.call(form.querySelectorAll("input[data-purpose]"));
  var granted = {}; // purpose id -> granted, as the API last said

  var SOURCES = {
    register: "jsSourceRegistration", form: "jsSourceForm", banner: "jsSourceBanner", gpc: "jsSourceGpc", dnt: "jsSourceDnt",
    unsubscribe: "jsSourceUnsubscribe", account: "jsSourceAccount", guardian: "jsSourceGuardian", policy: "jsSourcePolicy"
  };
  var ACTIONS = { grant: "jsLedgerGrant", withdraw: "jsLedgerWithdraw", accept: "jsLedgerAccept" };
  var PURPOSE_SIGNALS = { gpc: "jsSignalPurposeGpc", dnt: "jsSignalPurposeDnt" };

  // ---- small DOM helpers (form.js) ----

  var el = P.el;
  var timeEl = P.timeEl;

  function policyLink(version) {
    return P.policyLink(policyBase, version);
  }

  // named returns the UI string table[value] (or prefix + value), or the value itself as code.
  function named(key, value) {
    if (key && P.has(key)) {
      return document.createTextNode(P.msg(key));
    }
    return el("code", String(value == null ? "" : value));
  }

  function receiptLink(id, text, className) {
    var a = el("a", text, className);
    a.href = "/api/consent/receipts/" + encodeURIComponent(String(id));
    a.setAttribute("download", "");
    a.setAttribute("data-receipt", String(id));
    return a;
  }

  function part(item, name) {
    return item.querySelector('[data-part="' + name + '"]');
  }

  // ---- showing the choices ----

  function sourceName(source) {
    return P.has(SOURCES[source] || "") ? P.msg(SOURCES[source]) : String(source || "");
  }

  function stateText(p) {
    if (p.changedAt) {
      return P.msgNodes(p.granted ? "jsConsentStateOn" : "jsConsentStateOff", { date: timeEl(p.changedAt), source: sourceName(p.source) });
    }
    return document.createTextNode(P.msg(p.granted ? "jsConsentGranted" : "jsConsentStateNever"));
  }

  function renderPurposes(list) {
    var byID = {};
    (Array.isArray(list) ? list : []).forEach(function (p) {
      if (p && typeof p.id === "string") {
        byID[p.id] = p;
      }
    });
    granted = {};
    toggles.forEach(function (box) {
      var id = box.getAttribute("data-purpose");
      var p = byID[id] || { id: id, granted: false };
      var item = box.closest("[data-item]");
      granted[id] = p.granted === true;
      box.checked = granted[id];
      box.removeAttribute("aria-invalid");
      part(item, "new").hidden = p["new"] !== true;
      var state = part(item, "state");
      state.textContent = "";
      state.appendChild(stateText(p));
      var signal = part(item, "signal");
      var key = PURPOSE_SIGNALS[p.signal];
      signal.textContent = key ? P.msg(key) : "";
      signal.hidden = !key;
    });
  }

  function renderSignals(signals) {
    var note = P.byId("consent-signals");
    var s = signals || {};
    var key = s.gpc === true ? "jsSignalsGpc" : (s.dnt === true ? "jsSignalsDnt" : "");
    note.textContent = key ? P.msg(key) : "";
    note.hidden = !key;
  }

  function time(e) {
    var t = Date.parse(e.at);
    return isNaN(t) ? 0 : t;
  }

  function renderLedger(entries) {
    var body = P.byId("consent-ledger-table").tBodies[0];
    body.textContent = "";
    // Oldest first, as the API sends it; equal times keep their order.
    var list = (Array.isArray(entries) ? entries : []).filter(function (e) { return e && typeof e === "object"; })
      .map(function (e, i) { return { e: e, i: i }; })
      .sort(function (a, b) { return time(a.e) - time(b.e) || a.i - b.i; })
      .map(function (x) { return x.e; });
    if (!list.length) {
      var td = el("td", P.msg("jsNone"));
      td.colSpan = 6;
      var empty = el("tr");
      empty.appendChild(td);
      body.appendChild(empty);
      return;
    }
    list.forEach(function (e) {
      var accept = e.action === "accept";
      var cells = [
        timeEl(e.at),
        accept ? document.createTextNode(P.msg("jsLedgerPolicy")) : named("purpose:" + e.purpose, e.purpose),
        named(ACTIONS[e.action], e.action),
        named(SOURCES[e.source], e.source),
        policyLink(e.policyVersion),
        e.receiptId ? receiptLink(e.receiptId, P.msg("jsReceipt"), "consent-ledger-receipt") : document.createTextNode("")
      ];
      var tr = el("tr");
      cells.forEach(function (c) {
        var cell = el("td");
        cell.appendChild(c);
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
  }

  function render(data) {
    renderPurposes(data.purposes);
    renderSignals(data.signals);
    renderLedger(data.ledger);
    P.byId("consent-signed-out").hidden = true;
    view.hidden = false;
  }

  function signedOut() {
    view.hidden = true;
    P.setStatus(status, "", "");
    P.byId("consent-signed-out").hidden = false;
    return P.byId("consent-signed-out-heading");
  }

  function load() {
    P.setStatus(status, "info", P.msg("jsConsentLoading"));
    return P.api("GET", "/api/consent").then(function (r) {
      if (r.status === 401) {
        signedOut();
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

  // ---- saving ----

  // syncBanner makes the cookie banner's choice follow an analytics change made here.
  function syncBanner(choices) {
    var B = window.PortalCookies;
    if (B && B.category && Object.prototype.hasOwnProperty.call(choices, B.category)) {
      B.record(choices[B.category]);
    }
  }

  P.onSubmit(form, function () {
    P.clearErrors(form);
    P.setStatus(saveStatus, "", "");
    var choices = {};
    var changed = 0;
    toggles.forEach(function (box) {
      var id = box.getAttribute("data-purpose");
      if (box.checked !== (granted[id] === true)) {
        choices[id] = box.checked;
        changed++;
      }
    });
    if (!changed) {
      P.setStatus(saveStatus, "info", P.msg("jsNothingToSave"));
      return null;
    }
    P.setStatus(saveStatus, "info", P.msg("jsSending"));
    return P.api("PUT", "/api/consent", { choices: choices, source: "form" }).then(function (r) {
      if (r.status === 401) {
        P.focusHeading(signedOut());
        return null;
      }
      if (!r.ok) {
        P.showProblem(form, saveStatus, r.problem);
        return null;
      }
      syncBanner(choices);
      var shown = r.data && typeof r.data === "object" && Array.isArray(r.data.purposes) ? Promise.resolve(render(r.data)) : load();
      return shown.then(function () {
        var receipt = r.data && r.data.receipt;
        if (!receipt || !receipt.id) {
          P.setStatus(saveStatus, "info", P.msg("jsNothingToSave"));
          return;
        }
        var p = el("p");
        p.appendChild(receiptLink(receipt.id, P.msg("jsConsentReceipt")));
        p.firstChild.id = "consent-receipt-link";
        P.setStatus(saveStatus, "success", P.msg("jsConsentSaved"), p);
      });
    });
  });

  load();
})();
