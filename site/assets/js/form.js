/* Privacy Portal: forms (after strings.js). Adds to window.Portal:
   - setStatus(): messages in a page's live region (role="status");
   - field errors: a problem's detail beside the field its "field" names (aria-invalid,
     aria-describedby), focus on the first bad field, a summary in the live region;
   - checks before sending: required and malformed fields, optional fields without their consent,
     6-digit codes, new passwords' length; optionalFields() finds the catalogue's optional fields
     in a form; passwordToggle() wires a "Show password" box;
   - onSubmit()/runBusy(): one submission at a time, the form marked busy meanwhile;
   - el(), timeEl(), dateEl(), policyLink(): the small DOM helpers of the pages that show records
     (the account page's history, the consent centre's ledger, the requests' due dates).
   The pages' buttons are disabled in the HTML (the API takes JSON only, which no plain form can
   send); this script enables them once every deferred script has run. */
(function () {
  "use strict";
  var P = window.Portal;
  var byId = P.byId;
  var msg = P.msg;

  // setStatus shows text in a live region (role="status"). kind is "error", "success" or "info";
  // extra is an optional node shown under the text. The text goes in a moment after the region
  // is emptied, so screen readers announce it even when it repeats the last message.
  function setStatus(el, kind, text, extra) {
    if (!el) {
      return;
    }
    var seq = (el._portalSeq || 0) + 1;
    el._portalSeq = seq;
    el.classList.remove("is-error", "is-success", "is-info");
    el.textContent = "";
    if (!text) {
      return;
    }
    window.setTimeout(function () {
      if (el._portalSeq !== seq) {
        return;
      }
      el.classList.add("is-" + kind);
      var p = document.createElement("p");
      p.textContent = text;
      el.appendChild(p);
      if (extra) {
        el.appendChild(extra);
      }
    }, 60);
  }

  function isShown(el) {
    return !el.closest("[hidden]");
  }

  function describedBy(el) {
    return (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  }

  function setDescribedBy(el, ids) {
    if (ids.length) {
      el.setAttribute("aria-describedby", ids.join(" "));
    } else {
      el.removeAttribute("aria-describedby");
    }
  }

  // markInvalid shows text in the error slot of controls (data-error) and points them at it.
  function markInvalid(controls, text) {
    var slot = byId(controls[0].getAttribute("data-error") || "");
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
    }
    controls.forEach(function (el) {
      el.setAttribute("aria-invalid", "true");
      if (slot) {
        var ids = describedBy(el);
        if (ids.indexOf(slot.id) < 0) {
          ids.unshift(slot.id);
          setDescribedBy(el, ids);
        }
      }
    });
  }

  // clearErrors undoes markInvalid for every control of form.
  function clearErrors(form) {
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var slotID = el.getAttribute("data-error");
      if (slotID) {
        setDescribedBy(el, describedBy(el).filter(function (id) { return id !== slotID; }));
      }
    });
    form.querySelectorAll(".field-error").forEach(function (slot) {
      slot.textContent = "";
      slot.hidden = true;
    });
  }

  // controlsNamed returns the shown controls of form named name (several for a radio group or
  // the consent boxes).
  function controlsNamed(form, name) {
    var item = form.elements.namedItem(name);
    if (!item) {
      return [];
    }
    var list = typeof item.length === "number" && !item.tagName ? Array.prototype.slice.call(item) : [item];
    return list.filter(function (el) { return isShown(el) && el.type !== "hidden"; });
  }

  // controlsForField maps a problem's field (the JSON name, perhaps dotted) to form controls.
  function controlsForField(form, field) {
    if (!field) {
      return [];
    }
    var parts = field.split(".");
    var names = [field, parts[0], parts[parts.length - 1]];
    for (var i = 0; i < names.length; i++) {
      var found = controlsNamed(form, names[i]);
      if (found.length) {
        return found;
      }
    }
    return [];
  }

  // reportErrors shows each {controls, text} beside its field, lists them in the status region
  // (each entry a link to its field) and moves focus to the first one on the page.
  function reportErrors(status, errors) {
    errors.sort(function (a, b) {
      return a.controls[0].compareDocumentPosition(b.controls[0]) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    errors.forEach(function (e) { markInvalid(e.controls, e.text); });
    var list = document.createElement("ul");
    errors.forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      var target = e.controls[0];
      a.href = "#" + target.id;
      a.textContent = e.text;
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        target.focus();
      });
      li.appendChild(a);
      list.appendChild(li);
    });
    var summary = errors.length === 1 ? msg("jsErrSummaryOne") : msg("jsErrSummaryMany", { count: errors.length });
    setStatus(status, "error", summary, list);
    errors[0].controls[0].focus();
  }

  // showProblem shows an API problem: beside its field when the form has it, else in status.
  function showProblem(form, status, problem) {
    var controls = controlsForField(form, problem.field);
    if (controls.length) {
      reportErrors(status, [{ controls: controls, text: problem.detail }]);
    } else {
      setStatus(status, "error", problem.detail);
    }
  }

  // mismatch reports whether value fails the field's data-pattern (from the catalogue). A
  // pattern this browser cannot compile is left to the API, which checks every value anyway.
  function mismatch(el, value) {
    var pattern = el.getAttribute("data-pattern");
    if (!pattern || !value) {
      return false;
    }
    try {
      return !new RegExp(pattern).test(value);
    } catch (e) {
      return false;
    }
  }

  // checkFields finds the shown, enabled fields of form that are required and empty, or not in
  // the form their type or pattern needs (an e-mail address, a phone number), with the messages
  // the page gave them.
  function checkFields(form) {
    var errors = [];
    var groups = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.willValidate || !isShown(el)) {
        return;
      }
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.type === "radio" && !groups[el.name]) {
          groups[el.name] = true;
          var group = controlsNamed(form, el.name);
          var required = group.some(function (r) { return r.required; });
          if (required && !group.some(function (r) { return r.checked; })) {
            errors.push({ controls: group, text: el.getAttribute("data-required-msg") || msg("jsErrUnexpected") });
          }
        }
        return;
      }
      var value = el.value.trim();
      if (el.required && !value) {
        errors.push({ controls: [el], text: el.getAttribute("data-required-msg") || el.validationMessage });
      } else if (value && el.validity && el.validity.typeMismatch) {
        errors.push({ controls: [el], text: el.getAttribute("data-invalid-msg") || el.validationMessage });
      } else if (mismatch(el, value)) {
        errors.push({ controls: [el], text: el.getAttribute("data-invalid-msg") || msg("jsErrUnexpected") });
      }
    });
    return errors;
  }

  // optionalFields returns the optional fields of form (partials/form/optional-fields.html, one
  // per catalogue entry) as {key, purpose, input, box}: key is the API's JSON name, purpose the
  // consent purpose its value is kept under, box its consent checkbox. The pages name none of
  // them: a field added to the catalogue is found here.
  function optionalFields(form) {
    return Array.prototype.map.call(form.querySelectorAll("[data-purpose][data-consent]"), function (input) {
      return {
        key: input.name,
        purpose: input.getAttribute("data-purpose"),
        input: input,
        box: byId(input.getAttribute("data-consent"))
      };
    });
  }

  // checkConsents stops an optional field that is filled while its consent box (data-consent)
  // is not ticked: the API refuses it too (P02).
  function checkConsents(form) {
    var errors = [];
    form.querySelectorAll("[data-consent]").forEach(function (input) {
      var box = byId(input.getAttribute("data-consent"));
      if (box && input.value.trim() && !box.checked) {
        errors.push({ controls: [input], text: msg("jsErrConsentMissing") });
      }
    });
    return errors;
  }

  // codeError checks a 6-digit code field (spaces allowed, as codes are often copied "123 456").
  function codeError(input) {
    var v = input.value.replace(/\s+/g, "");
    if (v && !/^[0-9]{6}$/.test(v)) {
      return { controls: [input], text: msg("jsErrCodeFormat") };
    }
    return null;
  }

  // passwordError checks a new password's length as the API does (10 to 128 characters); the
  // API checks the rest of the rule (common, breached, made of the person's own details).
  function passwordError(input) {
    var pw = input.value;
    if (pw && pw.length < 10) {
      return { controls: [input], text: msg("jsErrPasswordShort") };
    }
    if (pw.length > 128) {
      return { controls: [input], text: msg("jsErrPasswordLong") };
    }
    return null;
  }

  // passwordToggle wires a "Show password" box (partials/form/show-password.html): it shows the
  // box (hidden in the HTML, as it does nothing without this script) and switches the fields it
  // controls (aria-controls) between hidden and plain text. reset() hides them again.
  function passwordToggle(box) {
    var targets = (box.getAttribute("aria-controls") || "").split(/\s+/).map(byId).filter(Boolean);
    function sync() {
      targets.forEach(function (t) { t.type = box.checked ? "text" : "password"; });
    }
    box.checked = false;
    box.parentNode.hidden = false;
    box.addEventListener("change", sync);
    return {
      reset: function () {
        box.checked = false;
        sync();
      }
    };
  }

  function setBusy(form, busy) {
    if (busy) {
      form.setAttribute("aria-busy", "true");
    } else {
      form.removeAttribute("aria-busy");
    }
    form.querySelectorAll("button").forEach(function (b) {
      if (busy) {
        b.setAttribute("aria-disabled", "true");
      } else {
        b.removeAttribute("aria-disabled");
      }
    });
  }

  // onSubmit runs handler(submitter) for form's submissions, one at a time. The buttons stay
  // focusable while it runs (aria-disabled, not disabled), so focus does not jump away.
  function onSubmit(form, handler) {
    var lastClicked = null;
    form.noValidate = true;
    form.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[type=submit]");
      if (b) {
        lastClicked = b;
      }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (form.getAttribute("aria-busy") === "true") {
        return;
      }
      var submitter = ev.submitter || lastClicked;
      lastClicked = null;
      setBusy(form, true);
      Promise.resolve()
        .then(function () { return handler(submitter); })
        .catch(function () { /* handlers report their own errors; never leave the form busy */ })
        .then(function () { setBusy(form, false); });
    });
  }

  // runBusy is onSubmit for a lone button outside a submission (e.g. "Send a new code").
  function runBusy(button, form, handler) {
    button.addEventListener("click", function () {
      if (form.getAttribute("aria-busy") === "true") {
        return;
      }
      setBusy(form, true);
      Promise.resolve()
        .then(handler)
        .catch(function () {})
        .then(function () { setBusy(form, false); });
    });
  }

  function focusHeading(el) {
    if (el) {
      el.focus();
    }
  }

  // Everything that needs the scripts starts disabled in the HTML. DOMContentLoaded comes after
  // every deferred script has run, so the page script has wired its forms by then: a button
  // enabled earlier could post the form as plain HTML, which the API cannot take.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-needs-js][disabled]").forEach(function (el) {
      el.disabled = false;
    });
  });

  // ---- showing records ----

  var dateFormat = null;
  try {
    dateFormat = new Intl.DateTimeFormat(P.locale(), { dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    dateFormat = null;
  }

  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text != null) {
      e.textContent = text;
    }
    if (className) {
      e.className = className;
    }
    return e;
  }

  // timeEl is a <time> for an ISO date, written in the page's language.
  function timeEl(iso) {
    if (!iso) {
      return document.createTextNode("");
    }
    var t = el("time");
    t.dateTime = iso;
    var d = new Date(iso);
    t.textContent = dateFormat && !isNaN(d.getTime()) ? dateFormat.format(d) : String(iso);
    return t;
  }

  // dateEl is a <time> for a date shown without its time of day (a request's due date), long
  // form. A day with no time is read in UTC, so it is not shown as the day before west of
  // Greenwich.
  var dayFormat = null;
  var utcDayFormat = null;
  try {
    dayFormat = new Intl.DateTimeFormat(P.locale(), { dateStyle: "long" });
    utcDayFormat = new Intl.DateTimeFormat(P.locale(), { dateStyle: "long", timeZone: "UTC" });
  } catch (e) {
    dayFormat = utcDayFormat = null;
  }
  function dateEl(iso) {
    if (!iso) {
      return document.createTextNode("");
    }
    var t = el("time");
    t.dateTime = String(iso);
    var d = new Date(iso);
    var f = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? utcDayFormat : dayFormat;
    t.textContent = f && !isNaN(d.getTime()) ? f.format(d) : String(iso);
    return t;
  }

  // policyLink links a policy version's page under base ("/policy/" or "/zh/policy/").
  function policyLink(base, version) {
    if (!version) {
      return document.createTextNode("");
    }
    var a = el("a", String(version));
    a.href = base + encodeURIComponent(String(version)) + "/";
    return a;
  }

  P.el = el;
  P.timeEl = timeEl;
  P.dateEl = dateEl;
  P.policyLink = policyLink;
  P.setStatus = setStatus;
  P.markInvalid = markInvalid;
  P.clearErrors = clearErrors;
  P.reportErrors = reportErrors;
  P.showProblem = showProblem;
  P.checkFields = checkFields;
  P.checkConsents = checkConsents;
  P.optionalFields = optionalFields;
  P.codeError = codeError;
  P.passwordError = passwordError;
  P.passwordToggle = passwordToggle;
  P.onSubmit = onSubmit;
  P.runBusy = runBusy;
  P.setBusy = setBusy;
  P.focusHeading = focusHeading;
})();
