/* /account/: the policy acceptance prompt (partials/consent/policy-prompt.html). GET /api/consent;
   when policy.mustAccept, shows the version in force with a link to it (/policy/<version>/, which
   says what changed) and an "Accept" button that POSTs /api/consent/policy {"version": ...}, then
   hides the prompt. Signed out (401) or any failure to load: the prompt stays hidden.
   Stands alone (async, its own fetch, no window.Portal): the account page's deferred scripts are
   account.js's. Its words are data-* attributes of #policy-prompt. */
(function () {
  "use strict";

  function send(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        "Accept": "application/json, application/problem+json",
        "Accept-Language": document.documentElement.lang || "en"
      }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      var json = /json/i.test(res.headers.get("Content-Type") || "") ? res.json().catch(function () { return null; }) : Promise.resolve(null);
      return json.then(function (data) {
        return { ok: res.ok, status: res.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: null };
    });
  }

  function start() {
    var box = document.getElementById("policy-prompt");
    var status = document.getElementById("policy-prompt-status");
    var button = document.getElementById("policy-accept");
    if (!box || !status || !button || !window.fetch) {
      return;
    }
    var base = box.getAttribute("data-policy") || "/policy/";
    var version = "";

    function fill(template) {
      return String(template || "").replace(/\{version\}/g, version);
    }

    function setStatus(kind, text) {
      status.classList.remove("is-error", "is-success", "is-info");
      status.textContent = "";
      if (text) {
        status.classList.add("is-" + kind);
        var p = document.createElement("p");
        p.textContent = text;
        status.appendChild(p);
      }
    }

    send("GET", "/api/consent").then(function (r) {
      var policy = r.ok && r.data && r.data.policy;
      if (!policy || policy.mustAccept !== true || !policy.inForce) {
        return;
      }
      version = String(policy.inForce);
      document.getElementById("policy-prompt-text").textContent = fill(box.getAttribute("data-text"));
      var link = document.getElementById("policy-prompt-link");
      link.href = base + encodeURIComponent(version) + "/";
      link.textContent = fill(box.getAttribute("data-link"));
      box.hidden = false;
    });

    button.addEventListener("click", function () {
      if (button.getAttribute("aria-disabled") === "true") {
        return;
      }
      button.setAttribute("aria-disabled", "true");
      setStatus("", "");
      send("POST", "/api/consent/policy", { version: version }).then(function (r) {
        button.removeAttribute("aria-disabled");
        if (r.ok) {
          box.hidden = true;
          setStatus("success", fill(box.getAttribute("data-accepted")));
          status.focus();
          return;
        }
        if (r.status === 401) {
          box.hidden = true; // signed out meanwhile: the account page says so
          return;
        }
        var detail = r.data && typeof r.data.detail === "string" ? r.data.detail : "";
        setStatus("error", detail || box.getAttribute(r.status === 0 ? "data-msg-network" : "data-msg-unexpected"));
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
