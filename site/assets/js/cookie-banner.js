/* Privacy Portal: the cookie banner, on every page (partials/consent/banner.html renders it and
   runs this script right after it). Our own: the vendored CookieConsent 3.1.0 it replaced cost
   15.6 KB gzipped (script and stylesheet), over half of the 30 KiB a page may transfer with
   everything it loads (`make bench`); this script is about 2 KB. A plain classic script, neither
   deferred nor async, at the top of <body>: it shows the banner before the rest of the page is
   parsed, and defines window.PortalCookies before the deferred page scripts run. It uses no
   window.Portal (most pages load none of the account scripts). Its settings are data-* attributes
   of its own <script> element.

   - Two categories: "necessary" (the session cookie and the choice cookie; always on) and the
     catalogue's analytics purpose (data-category), off until the visitor turns it on. Nothing but
     essential cookies before a choice (opt-in). The banner is shown, to people and automated
     browsers alike, until a choice is stored; while it is, <html> has class show--consent.
   - The choice cookie (data-cookie, cc_cookie) keeps the format CookieConsent wrote, which
     internal/consent reads: URL-encoded JSON {"categories": ["necessary", <analytics>?],
     "revision": 0, "data": {"signal": ...}, "consentTimestamp", "services",
     "languageCode", "lastConsentTimestamp", "expirationTime"}; Path=/, SameSite=Strict, Secure
     over HTTPS, data-days days from the last choice. Host-only: a copy CookieConsent set with
     Domain= (it did when the host name has a dot) is deleted when the choice is written, as the
     API ignores a cookie sent twice.
   - Global Privacy Control (navigator.globalPrivacyControl === true) or Do Not Track
     (navigator.doNotTrack === "1"): the banner and the preferences say which signal applies
     (data-gpc, data-dnt). Analytics is off by default anyway; a choice made while the signal is
     on is honoured, and the choice cookie keeps the signal it was made with ("data": {"signal":
     ...}). A choice made before the signal came gives way to it: analytics goes off, and the
     visitor may turn it on again.
   - With analytics on, js/analytics.js (data-script) is loaded, once per page: it counts the
     page view.
   - A choice the visitor makes (banner or preferences) goes to their consent ledger when they are
     signed in: PUT /api/consent {"choices": {<analytics>: bool}, "source": "banner"} (a
     visitor who is not gets a 401 and the cookie alone holds the choice); only a first choice or a change, as CookieConsent did. Nothing is
     sent on page loads without a choice.
   - Focus: the preferences are a modal <dialog> (showModal keeps focus in it, Escape closes it
     and focus returns to the button that opened it). When a choice hides the banner while focus
     is in it, focus goes to <main>, where the skip link leads.
   - window.PortalCookies: what the cookie page (js/cookies.js) and the consent centre
     (js/consent.js) need: the current choice, the signal, opening the preferences, recording a
     choice made in the consent centre, deleting the choice cookie. */
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var me = doc.currentScript;
  if (!me) {
    return;
  }
  function setting(name) {
    return me.getAttribute("data-" + name) || "";
  }

  var NECESSARY = "necessary";
  var REVISION = 0;
  var SHOWN = "show--consent";
  var ANALYTICS = setting("category");
  var COOKIE = setting("cookie");
  var DAYS = parseInt(setting("days"), 10) || 182;
  var SCRIPT = setting("script");
  var LANG = root.lang || "en";

  // The browser's signal: "gpc", "dnt" or "".
  var SIGNAL = navigator.globalPrivacyControl === true ? "gpc" : (navigator.doNotTrack === "1" ? "dnt" : "");
  var SIGNAL_TEXT = SIGNAL ? setting(SIGNAL) : "";

  var analyticsLoaded = false;
  var listeners = [];

  function byId(id) {
    return doc.getElementById(id);
  }

  // ---- the choice cookie ----

  // read returns the stored choice, or null when there is none (or one this script cannot use).
  function read() {
    var m = doc.cookie.match(new RegExp("(?:^|;)\\s*" + COOKIE + "=([^;]*)"));
    try {
      var v = m && JSON.parse(decodeURIComponent(m[1]));
      return v && Array.isArray(v.categories) && v.revision === REVISION ? v : null;
    } catch (e) {
      return null;
    }
  }

  var state = read();

  function cookieTail() {
    return "; Path=/; SameSite=Strict" + (location.protocol === "https:" ? "; Secure" : "");
  }

  // dropDomainCopy deletes the copy CookieConsent set for the host name with Domain=.
  function dropDomainCopy() {
    if (location.hostname.indexOf(".") >= 0) {
      doc.cookie = COOKIE + "=; Max-Age=0; Domain=" + location.hostname + cookieTail();
    }
  }

  function analyticsOn() {
    return !!state && state.categories.indexOf(ANALYTICS) >= 0;
  }

  // store writes a choice: analytics on or off, with the signal that is on now. keepExpiry is for
  // a change this script makes by itself (the cookie keeps its lifetime); a visitor's choice
  // starts a new one.
  function store(analytics, keepExpiry) {
    var now = new Date();
    var prev = state || {};
    var expires = keepExpiry && prev.expirationTime > now.getTime() ? prev.expirationTime : now.getTime() + DAYS * 864e5;
    var services = {};
    services[NECESSARY] = [];
    services[ANALYTICS] = [];
    state = {
      categories: analytics ? [NECESSARY, ANALYTICS] : [NECESSARY],
      revision: REVISION,
      data: { signal: SIGNAL },
      consentTimestamp: prev.consentTimestamp || now.toISOString(),
      services: services,
      languageCode: LANG,
      lastConsentTimestamp: now.toISOString(),
      expirationTime: expires
    };
    dropDomainCopy();
    doc.cookie = COOKIE + "=" + encodeURIComponent(JSON.stringify(state)) + "; Expires=" + new Date(expires).toUTCString() + cookieTail();
  }

  function loadAnalytics() {
    if (analyticsLoaded || !SCRIPT || !analyticsOn()) {
      return;
    }
    analyticsLoaded = true;
    var s = doc.createElement("script");
    s.src = SCRIPT;
    doc.head.appendChild(s);
  }

  function notify() {
    listeners.forEach(function (fn) {
      try {
        fn();
      } catch (e) { /* one page's listener does not stop the others */ }
    });
  }

  function send(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json, application/problem+json" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.status;
    }, function () {
      return 0;
    });
  }

  // toLedger records the visitor's choice in their consent ledger when they are signed in:
  // the PUT answers 401 to a visitor who is not, and the cookie alone holds the choice. (No
  // read of the account first: the banner has no use for what it holds.)
  function toLedger(on) {
    if (!window.fetch) {
      return;
    }
    var choices = {};
    choices[ANALYTICS] = on;
    send("PUT", "/api/consent", { choices: choices, source: "banner" });
  }

  // ---- the banner and the preferences ----

  var banner = byId("cookie-banner");
  var prefs = byId("cookie-prefs");
  var box = byId("cookie-prefs-analytics");

  function showBanner(show) {
    root.classList.toggle(SHOWN, show);
    if (banner) {
      banner.hidden = !show;
    }
  }

  function showPreferences() {
    if (!prefs || !prefs.showModal) {
      return false;
    }
    if (!prefs.open) {
      box.checked = analyticsOn();
      prefs.showModal();
    }
    return true;
  }

  // choose runs on every choice the visitor makes on the banner or in the preferences.
  function choose(on) {
    var changed = !state || analyticsOn() !== on;
    store(on, false);
    if (prefs && prefs.open) {
      prefs.close(); // focus goes back to the button that opened it
    }
    var focusLost = banner && banner.contains(doc.activeElement);
    showBanner(false);
    var main = byId("main");
    if (focusLost && main) {
      main.focus({ preventScroll: true });
    }
    loadAnalytics();
    if (changed) {
      toLedger(on);
    }
    notify();
  }

  var actions = {
    "cookie-banner-accept": function () { choose(true); },
    "cookie-banner-reject": function () { choose(false); },
    "cookie-banner-preferences": showPreferences,
    "cookie-prefs-accept": function () { choose(true); },
    "cookie-prefs-reject": function () { choose(false); },
    "cookie-prefs-save": function () { choose(box.checked); },
    "cookie-prefs-close": function () { prefs.close(); }
  };
  Object.keys(actions).forEach(function (id) {
    var b = byId(id);
    if (b) {
      b.addEventListener("click", actions[id]);
    }
  });
  Array.prototype.forEach.call(doc.querySelectorAll(".cookie-signal"), function (el) {
    el.textContent = SIGNAL_TEXT;
    el.hidden = !SIGNAL_TEXT;
  });

  // ---- on every page load ----

  // A choice made before the browser's signal came gives way to it (not sent to the ledger: the
  // API applies the signal itself).
  if (state && SIGNAL && (state.data || {}).signal !== SIGNAL) {
    store(false, true);
  }
  showBanner(!state);
  loadAnalytics();

  window.PortalCookies = {
    category: ANALYTICS,
    cookie: COOKIE,
    signal: SIGNAL,
    signalText: SIGNAL_TEXT,
    // choice is "on", "off" or "unset" (no choice yet: essential cookies only).
    choice: function () {
      return state ? (analyticsOn() ? "on" : "off") : "unset";
    },
    showPreferences: showPreferences,
    // record makes the banner's choice match one the visitor just made in the consent centre,
    // which sent it to the ledger itself. Without a banner choice yet, the banner still asks.
    record: function (on) {
      if (!state || analyticsOn() === !!on) {
        return;
      }
      store(!!on, false);
      loadAnalytics();
      notify();
    },
    // forget deletes the choice cookie, host-only and any copy for the host name with Domain=.
    forget: function () {
      doc.cookie = COOKIE + "=; Max-Age=0" + cookieTail();
      dropDomainCopy();
    },
    onChange: function (fn) {
      listeners.push(fn);
    }
  };
})();
