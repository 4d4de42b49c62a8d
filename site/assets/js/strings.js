/* Privacy Portal: the first of the account pages' shared scripts (see partials/head.html for
   which page loads which, in order). A plain deferred script, no framework, no modules. It creates
   window.Portal, to which api.js, form.js and code.js add, with:
   - msg(), has(), msgNodes(): the UI strings Hugo rendered into <template id="ui-strings"> in the
     page's language (partials/form/strings.html), including purpose:<id> and field:<name>;
   - locale(): the page's language as the API names it; byId(). */
(function () {
  "use strict";
  var P = window.Portal = window.Portal || {};

  var strings = null;

  // loadStrings reads <template id="ui-strings"> and any <template data-ui-strings> (a page's
  // own strings beside the shared ones, e.g. partials/consent/strings.html).
  function loadStrings() {
    if (!strings) {
      strings = {};
      document.querySelectorAll("template#ui-strings, template[data-ui-strings]").forEach(function (tpl) {
        tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
          strings[el.getAttribute("data-key")] = el.textContent;
        });
      });
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

  P.msg = msg;
  P.has = has;
  P.msgNodes = msgNodes;
  P.byId = byId;
  P.locale = locale;
})();
