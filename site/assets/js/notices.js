/* Privacy Portal: /notices/ only (layouts/_default/notices.html), loaded at the end of the page's
   content. A plain script, no framework, no modules, independent of the account pages' scripts.

   The operator publishes public notices (P14) as JSON in the site bucket, after the site was
   built: /notices/index.json lists them, /notices/<id>.json holds one. With ?id=<id> (or
   #id=<id>) this page shows that notice; without, the list. Texts are {"en": ..., "zh-CN": ...}
   objects, shown in the page's language, in English when they have none in it. Everything from
   the JSON is put in with textContent (never as markup), each line of a text its own paragraph.
   A missing file says so (no notice, or none yet); a broken one says it could not be loaded.
   The page's strings come from <template id="notice-strings">. */
(function () {
  "use strict";

  var page = document.getElementById("notices-page");
  if (!page || !window.fetch) {
    return;
  }
  var lang = document.documentElement.lang || "en";
  var status = byId("notices-status");
  var strings = {};
  var tpl = byId("notice-strings");
  if (tpl && tpl.content) {
    tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
      strings[el.getAttribute("data-key")] = el.textContent;
    });
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function str(key) {
    return Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  }

  // fill returns the nodes of template with {name} placeholders replaced by nodes[name] (a node
  // or a string, put in as text).
  function fill(template, nodes) {
    var out = document.createDocumentFragment();
    template.split(/(\{\w+\})/).forEach(function (part) {
      var m = /^\{(\w+)\}$/.exec(part);
      var n = m && nodes[m[1]];
      if (n != null) {
        out.appendChild(typeof n === "object" ? n : document.createTextNode(String(n)));
      } else if (part) {
        out.appendChild(document.createTextNode(part));
      }
    });
    return out;
  }

  // text returns t in the page's language: t itself if it is a string, else t[lang], else
  // t.en, else "" (a text the page cannot show).
  function text(t) {
    if (typeof t === "string") {
      return t;
    }
    if (!t || typeof t !== "object") {
      return "";
    }
    var v = t[lang];
    if (typeof v !== "string" || !v.trim()) {
      v = t.en;
    }
    return typeof v === "string" ? v : "";
  }

  // paragraphs puts s into target as one <p> per line (blank lines dropped); false if none.
  function paragraphs(target, s) {
    target.textContent = "";
    var n = 0;
    s.split(/\r\n|\r|\n/).forEach(function (line) {
      if (line.trim()) {
        var p = document.createElement("p");
        p.textContent = line.trim();
        target.appendChild(p);
        n++;
      }
    });
    return n > 0;
  }

  // dateEl returns a <time> for an RFC 3339 time (or a date), its date written long-form in the
  // page's language, UTC; the value as given when it is no date.
  function dateEl(v) {
    var el = document.createElement("time");
    var s = typeof v === "string" ? v : "";
    var d = new Date(s);
    if (!s || isNaN(d.getTime())) {
      el.textContent = s;
      return el;
    }
    el.setAttribute("datetime", s);
    try {
      el.textContent = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" }).format(d);
    } catch (e) {
      el.textContent = d.toISOString().slice(0, 10);
    }
    return el;
  }

  function number(n) {
    try {
      return new Intl.NumberFormat(lang).format(n);
    } catch (e) {
      return String(n);
    }
  }

  function say(key) {
    status.textContent = "";
    if (key) {
      var p = document.createElement("p");
      p.textContent = str(key);
      status.appendChild(p);
    }
  }

  // param reads name from "a=1&b=2" (by hand, as the other pages do).
  function param(s, name) {
    var parts = s.replace(/^[#?]/, "").split("&");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(name + "=") === 0) {
        try {
          return decodeURIComponent(parts[i].slice(name.length + 1));
        } catch (e) {
          return "";
        }
      }
    }
    return "";
  }

  // An id names a file, /notices/<id>.json: letters, digits, "-" and "_" only, so no id can
  // point anywhere else.
  var idRE = /^[A-Za-z0-9_-]{1,128}$/;

  // load fetches a notices JSON file: data on success, "missing" when there is no such file,
  // "failed" when it could not be fetched or read. It logs nothing.
  function load(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-cache", headers: { "Accept": "application/json" } })
      .then(function (res) {
        if (res.status === 404 || res.status === 403 || res.status === 410) {
          return "missing";
        }
        if (!res.ok) {
          return "failed";
        }
        return res.json().then(function (data) {
          return data && typeof data === "object" && !Array.isArray(data) ? data : "failed";
        }, function () {
          return "failed";
        });
      }, function () {
        return "failed";
      });
  }

  function noticeURL(id) {
    return page.getAttribute("data-dir") + encodeURIComponent(id) + ".json";
  }

  // ---- One notice ----

  function section(name, value) {
    var ok = paragraphs(byId("notice-" + name), text(value));
    byId("notice-" + name + "-section").hidden = !ok;
  }

  function dateRow(name, value) {
    var row = byId("notice-" + name + "-row");
    row.hidden = !value;
    if (value) {
      var dd = byId("notice-" + name);
      dd.textContent = "";
      dd.appendChild(dateEl(value));
    }
  }

  function count(name, key, n) {
    var ok = typeof n === "number" && isFinite(n) && n > 0;
    byId("notice-" + name + "-row").hidden = !ok;
    if (ok) {
      byId("notice-" + name).textContent = str(key).replace("{n}", number(n));
    }
    return ok;
  }

  function showNotice(n) {
    var title = text(n.title) || byId("notices-heading").textContent;
    byId("notices-heading").textContent = title;
    document.title = title + " · " + page.getAttribute("data-site-title");
    byId("notices-intro").hidden = true;

    dateRow("published", n.published);
    dateRow("occurred", n.occurred);
    dateRow("discovered", n.discovered);

    section("incident", n.incident);
    section("impact", n.impact);
    section("measures", n.measures);
    section("self-help", n.selfHelp);
    section("remedies", n.remedies);

    var kinds = Array.isArray(n.dataKinds) ? n.dataKinds.filter(function (k) {
      return typeof k === "string" && k.trim();
    }).map(function (k) {
      return strings["kind:" + k] || k;
    }) : [];
    byId("notice-data-kinds-row").hidden = kinds.length === 0;
    byId("notice-data-kinds").textContent = kinds.join(str("jsListSeparator"));
    var people = count("people", "noticePeopleN", n.people);
    var records = count("records", "noticeRecordsN", n.records);
    byId("notice-data-section").hidden = !kinds.length && !people && !records;

    // The contact: an e-mail address becomes a mailto: link (as partials/contact.html does),
    // anything else is text.
    var contact = typeof n.contact === "string" ? n.contact.trim() : "";
    var target = byId("notice-contact");
    target.textContent = "";
    if (/^[^\s@:\/]+@[^\s@:\/]+$/.test(contact)) {
      var a = document.createElement("a");
      a.setAttribute("href", "mailto:" + contact);
      a.textContent = contact;
      target.appendChild(a);
    } else {
      target.textContent = contact;
    }
    byId("notice-contact-section").hidden = !contact;

    byId("notice").hidden = false;
  }

  function showOne(id) {
    byId("notice-all").hidden = false;
    if (!idRE.test(id)) {
      byId("notice-missing").hidden = false;
      return;
    }
    // The language switch keeps the notice.
    document.querySelectorAll(".lang-switch a[href]").forEach(function (a) {
      a.setAttribute("href", a.getAttribute("href").replace(/[?#].*$/, "") + "?id=" + encodeURIComponent(id));
    });
    say("noticesLoading");
    load(noticeURL(id)).then(function (data) {
      say("");
      if (data === "missing") {
        byId("notice-missing").hidden = false;
      } else if (data === "failed") {
        say("noticeLoadFailed");
      } else {
        showNotice(data);
      }
    });
  }

  // ---- The list ----

  function showList(data) {
    var list = byId("notices-list");
    var items = data && Array.isArray(data.notices) ? data.notices.filter(function (n) {
      return n && typeof n.id === "string" && idRE.test(n.id);
    }) : [];
    if (!items.length) {
      say("noticesNone");
      return;
    }
    // Current notices first, then the newest first (RFC 3339 times in UTC compare as strings).
    items.sort(function (a, b) {
      if (!a.active !== !b.active) {
        return a.active ? -1 : 1;
      }
      var pa = String(a.published || ""), pb = String(b.published || "");
      return pa < pb ? 1 : pa > pb ? -1 : 0;
    });
    var here = byId("notice-all-link").getAttribute("href");
    list.textContent = "";
    items.forEach(function (n) {
      var li = document.createElement("li");
      li.setAttribute("data-active", n.active ? "true" : "false");
      var a = document.createElement("a");
      a.setAttribute("href", here + "?id=" + encodeURIComponent(n.id));
      a.textContent = text(n.title) || n.id;
      li.appendChild(a);
      if (n.published) {
        li.appendChild(document.createTextNode(" "));
        var when = document.createElement("span");
        when.className = "muted";
        when.appendChild(fill(str("noticePublishedOn"), { date: dateEl(n.published) }));
        li.appendChild(when);
      }
      if (!n.active) {
        li.appendChild(document.createTextNode(" "));
        var badge = document.createElement("strong");
        badge.className = "badge";
        badge.textContent = str("noticeEarlier");
        li.appendChild(badge);
      }
      list.appendChild(li);
    });
    list.hidden = false;
  }

  var id = param(location.search, "id") || param(location.hash, "id");
  if (id) {
    showOne(id);
  } else {
    say("noticesLoading");
    load(page.getAttribute("data-index")).then(function (data) {
      say("");
      if (data === "missing") {
        say("noticesNone");
      } else if (data === "failed") {
        say("noticesLoadFailed");
      } else {
        showList(data);
      }
    });
  }
})();
