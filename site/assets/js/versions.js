/* Privacy Portal: /policy/versions/ only (layouts/policy/versions.html), loaded at the end of the
   page's content. A plain script, no framework, no modules, independent of the account pages'
   scripts.

   The site is built before dates pass, so the page says which version was in force on the build
   date (#policy-in-force) and gives each version's status as of that date. This script reads
   /policy/versions.json and says which version is in force today instead, and updates the status
   column to match. Today is the current UTC date: a version takes effect at the start of its
   effective date, UTC (the rule of internal/policy.Catalog.InForce: the latest effective date on or
   before today; of two with the same effective date, the later published one). Any failure leaves
   the build-date text in place. The page's strings come in data-* attributes of #policy-in-force. */
(function () {
  "use strict";

  var note = document.getElementById("policy-in-force");
  if (!note || !window.fetch || !note.getAttribute("data-versions")) {
    return;
  }

  function attr(name) {
    return note.getAttribute("data-" + name) || "";
  }

  // today returns the current UTC date as YYYY-MM-DD (what versions.json dates are written as).
  function today() {
    return new Date().toISOString().slice(0, 10);
  }

  // inForce returns the version in force on day (YYYY-MM-DD strings compare as dates), or null.
  function inForce(versions, day) {
    var best = null;
    versions.forEach(function (v) {
      if (v.effective > day) {
        return;
      }
      if (!best || v.effective > best.effective || (v.effective === best.effective && v.published >= best.published)) {
        best = v;
      }
    });
    return best;
  }

  // dateElement returns <time> for day, written long-form in the page's language, as Hugo writes
  // the build date (partials/date.html).
  function dateElement(day) {
    var el = document.createElement("time");
    el.setAttribute("datetime", day);
    var lang = document.documentElement.lang || "en";
    try {
      el.textContent = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" })
        .format(new Date(day + "T00:00:00Z"));
    } catch (e) {
      el.textContent = day;
    }
    return el;
  }

  // versionLink returns a link to version id: the same link as in the table, so in the page's language.
  function versionLink(id) {
    var label = attr("version-label").replace("{id}", id);
    var row = rowOf(id);
    var a = row && row.querySelector("a[href]");
    if (!a) {
      return document.createTextNode(label);
    }
    var link = document.createElement("a");
    link.setAttribute("href", a.getAttribute("href"));
    link.textContent = label;
    return link;
  }

  function rowOf(id) {
    var rows = document.querySelectorAll("#policy-versions tr[data-version]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-version") === id) {
        return rows[i];
      }
    }
    return null;
  }

  // fill returns the nodes of template with {name} placeholders replaced by nodes[name].
  function fill(template, nodes) {
    var out = [];
    var re = /\{(\w+)\}/g;
    var last = 0;
    var m;
    while ((m = re.exec(template)) !== null) {
      out.push(document.createTextNode(template.slice(last, m.index)));
      out.push(nodes[m[1]] || document.createTextNode(m[0]));
      last = re.lastIndex;
    }
    out.push(document.createTextNode(template.slice(last)));
    return out;
  }

  function render(versions) {
    var day = today();
    var current = inForce(versions, day);
    var nodes = { date: dateElement(day) };
    var template = attr("none-today");
    if (current) {
      nodes.version = versionLink(current.id);
      template = attr("today");
    }
    var parts = fill(template, nodes);
    while (note.firstChild) {
      note.removeChild(note.firstChild);
    }
    parts.forEach(function (n) { note.appendChild(n); });

    versions.forEach(function (v) {
      var row = rowOf(v.id);
      var cell = row && row.querySelector("[data-status]");
      if (!cell) {
        return;
      }
      var status = "superseded";
      if (v.effective > day) {
        status = "pending";
      } else if (current && v.id === current.id) {
        status = "in-force";
      }
      cell.setAttribute("data-status", status);
      cell.textContent = attr(status === "pending" ? "upcoming" : status);
    });
  }

  fetch(attr("versions"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (res) {
      if (!res.ok) {
        throw new Error("versions.json: HTTP " + res.status);
      }
      return res.json();
    })
    .then(function (data) {
      if (data && Array.isArray(data.versions)) {
        render(data.versions);
      }
    })
    .catch(function () {
      // Keep the build-date notice and statuses: they say which date they are as of.
    });
})();
