/* Privacy Portal: the home page only (layouts/index.html), loaded at the end of its content. A
   plain script, independent of the account pages' scripts, kept small: every visitor loads it.

   While the operator has a public notice up (P14), the home page links it. The operator's tool
   writes /notices/index.json into the site bucket after the site was built:
     {"notices": [{"id", "title": {"en", "zh-CN"}, "published", "active"}]}
   Each active notice is listed in #home-notices as "Important notice: <title>", linked to the
   notice page in the page's language (data-page, ?id=<id>), newest first. No file (nothing
   published yet), a broken one, or no active notice: the section stays hidden, and the script
   logs nothing. Titles are put in with textContent only. */
(function () {
  "use strict";

  var box = document.getElementById("home-notices");
  var list = document.getElementById("home-notices-list");
  if (!box || !list || !window.fetch) {
    return;
  }
  var lang = document.documentElement.lang || "en";

  function title(t) {
    if (typeof t === "string") {
      return t;
    }
    var v = t && typeof t === "object" ? t[lang] : "";
    if (typeof v !== "string" || !v.trim()) {
      v = t && typeof t === "object" ? t.en : "";
    }
    return typeof v === "string" ? v.trim() : "";
  }

  function show(data) {
    var items = data && Array.isArray(data.notices) ? data.notices.filter(function (n) {
      return n && n.active === true && typeof n.id === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(n.id) && title(n.title);
    }) : [];
    if (!items.length) {
      return;
    }
    items.sort(function (a, b) {
      var pa = String(a.published || ""), pb = String(b.published || "");
      return pa < pb ? 1 : pa > pb ? -1 : 0;
    });
    var label = box.getAttribute("data-label") || "{title}";
    var parts = label.split("{title}");
    list.textContent = "";
    items.forEach(function (n) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.setAttribute("href", box.getAttribute("data-page") + "?id=" + encodeURIComponent(n.id));
      var strong = document.createElement("strong");
      strong.textContent = parts[0];
      a.appendChild(strong);
      a.appendChild(document.createTextNode(title(n.title) + parts.slice(1).join("")));
      li.appendChild(a);
      list.appendChild(li);
    });
    box.hidden = false;
  }

  fetch(box.getAttribute("data-index"), { credentials: "same-origin", cache: "no-cache", headers: { "Accept": "application/json" } })
    .then(function (res) {
      return res.ok ? res.json() : null;
    })
    .then(show)
    .catch(function () {
      // No notices to show: the home page stays as it is.
    });
})();
