/* Privacy Portal: what every account page shares. A plain deferred script (no framework, no
   modules) that defines window.Portal:
   - api(): fetch + JSON on the portal's own /api/, with application/problem+json errors unpacked;
   - field errors: a problem's detail beside the field its "field" names (aria-invalid,
     aria-describedby), focus on the first bad field, a summary in the page's live region;
   - msg(): the UI strings Hugo rendered into <template id="ui-strings"> in the page's language;
   - codeForm(): the e-mail + code form (#verify-form) used by /verify/, /register/ and /signin/.
   The pages' buttons are disabled in the HTML (the API takes JSON only, which no plain form can
   send); this script enables them. */
(function () {
  "use strict";

  var strings = null;

  function loadStrings() {
    if (!strings) {
      strings = {};
      var tpl = document.getElementById("ui-strings");
      if (tpl) {
        tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
          strings[el.getAttribute("data-key")] = el.textContent;
        });
      }
    }
    return strings;
  }

  // has reports whether the page gave a UI string for key.
  function has(key) {
    return Object.prototype.hasOwnProperty.call(loadStrings(), key);
  }

  // msg returns the UI string `key` with {name} placeholders filled from vars (the key itself
  // if the page has no such string, so a missing one shows rather than leaving a blank).
  function msg(key, vars) {
    var s = has(key) ? strings[key] : key;
    return s.replace(/\{(\w+)\}/g, function (all, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all;
    });
  }

  // msgNodes is msg for strings whose placeholders are elements (a <time>, a link).
  function msgNodes(key, nodes) {
    var out = document.createDocumentFragment();
    var parts = msg(key).split(/(\{\w+\})/);
    parts.forEach(function (part) {
      var m = /^\{(\w+)\}$/.exec(part);
      if (m && nodes[m[1]] != null) {
        out.appendChild(typeof nodes[m[1]] === "string" ? document.createTextNode(nodes[m[1]]) : nodes[m[1]]);
      } else if (part) {
        out.appendChild(document.createTextNode(part));
      }
    });
    return out;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  // locale is the page's language as the API names it ("en" or "zh-CN").
  function locale() {
    return document.documentElement.lang || "en";
  }

  // api sends one request to the portal's API and never throws. It resolves to
  // {ok, status, data, problem}; problem (on errors) is {type, title, status, detail, field, raw}
  // with a detail a person can read, in the page's language when the API gives none.
  function api(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json, application/problem+json", "Accept-Language": locale() }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      var parse = /json/i.test(type) ? res.json().catch(function () { return null; }) : Promise.resolve(null);
      return parse.then(function (data) {
        var out = { ok: res.ok, status: res.status, data: data, problem: null };
        if (!res.ok) {
          out.problem = toProblem(res, data);
        }
        return out;
      });
    }, function () {
      return { ok: false, status: 0, data: null, problem: { type: "", title: "", status: 0, detail: msg("jsErrNetwork"), field: "", raw: {} } };
    });
  }

  function toProblem(res, data) {
    var p = data && typeof data === "object" ? data : {};
    var problem = {
      type: typeof p.type === "string" ? p.type : "",
      title: typeof p.title === "string" ? p.title : "",
      status: res.status,
      detail: typeof p.detail === "string" ? p.detail : "",
      field: typeof p.field === "string" ? p.field : "",
      raw: p
    };
    if (res.status === 429) {
      var after = parseInt(res.headers.get("Retry-After") || "", 10);
      problem.detail = after > 0 ? msg("jsErrRateLimited", { seconds: after }) : (problem.detail || msg("jsErrRateLimitedLater"));
    }
    if (!problem.detail) {
      problem.detail = res.status >= 500 ? msg("jsErrServer") : (problem.title || msg("jsErrUnexpected"));
    }
    return problem;
  }

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

  // checkFields finds the shown, enabled fields of form that are required and empty, or not in
  // the form their type needs (an e-mail address), with the messages the page gave them.
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
      if (el.required && !el.value.trim()) {
        errors.push({ controls: [el], text: el.getAttribute("data-required-msg") || el.validationMessage });
      } else if (el.value.trim() && el.validity && el.validity.typeMismatch) {
        errors.push({ controls: [el], text: el.getAttribute("data-invalid-msg") || el.validationMessage });
      }
    });
    return errors;
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
      setStatus(status, "", "");
      if (opts.onVerified) {
        opts.onVerified();
        return;
      }
      byId("verify-entry").hidden = true;
      byId("verify-done").hidden = false;
      focusHeading(byId("verify-done-heading"));
    }

    onSubmit(form, function () {
      clearErrors(form);
      var errors = checkFields(form);
      var bad = codeError(code);
      if (bad) {
        errors.push(bad);
      }
      if (errors.length) {
        reportErrors(status, errors);
        return null;
      }
      setStatus(status, "info", msg("jsSending"));
      return api("POST", "/api/verify", { email: email.value.trim(), code: code.value.replace(/\s+/g, "") }).then(function (r) {
        if (r.ok) {
          verified();
        } else {
          showProblem(form, status, r.problem);
        }
      });
    });

    runBusy(byId("verify-resend"), form, function () {
      clearErrors(form);
      var errors = checkFields(form).filter(function (e) { return e.controls[0] === email; });
      if (errors.length) {
        reportErrors(status, errors);
        return null;
      }
      setStatus(status, "info", msg("jsSending"));
      var address = email.value.trim();
      return api("POST", "/api/verify/resend", { email: address }).then(function (r) {
        if (r.ok) {
          setStatus(status, "success", msg("jsCodeResent", { email: address }));
          code.focus();
        } else {
          showProblem(form, status, r.problem);
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
        focusHeading(byId("verify-heading"));
      },
      // verifyToken posts the token from a mailed link.
      verifyToken: function (token) {
        setStatus(status, "info", msg("jsVerifyChecking"));
        setBusy(form, true);
        return api("POST", "/api/verify", { token: token }).then(function (r) {
          setBusy(form, false);
          // A refused token is spent; after a network or server failure, keep it for a reload.
          if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429)) {
            dropFragment();
          }
          if (r.ok) {
            verified();
          } else {
            setStatus(status, "error", r.problem.detail + " " + msg("jsUseCodeInstead"));
          }
        });
      }
    };
  }

  // Everything that needs this script starts disabled in the HTML.
  document.querySelectorAll("[data-needs-js][disabled]").forEach(function (el) {
    el.disabled = false;
  });

  window.Portal = {
    api: api,
    msg: msg,
    has: has,
    msgNodes: msgNodes,
    byId: byId,
    locale: locale,
    setStatus: setStatus,
    markInvalid: markInvalid,
    clearErrors: clearErrors,
    reportErrors: reportErrors,
    showProblem: showProblem,
    checkFields: checkFields,
    checkConsents: checkConsents,
    codeError: codeError,
    onSubmit: onSubmit,
    runBusy: runBusy,
    setBusy: setBusy,
    focusHeading: focusHeading,
    fragmentToken: fragmentToken,
    keepFragmentOnLanguageSwitch: keepFragmentOnLanguageSwitch,
    dropFragment: dropFragment,
    codeForm: codeForm
  };
})();
