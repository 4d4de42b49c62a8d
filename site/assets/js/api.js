/* Privacy Portal: the API client (after strings.js). Adds to window.Portal:
   - api(): fetch + JSON on the portal's own /api/, never throwing, with
     application/problem+json errors unpacked by toProblem() into a detail a person can read. */
(function () {
  "use strict";
  var P = window.Portal;

  // api sends one request to the portal's API and never throws. It resolves to
  // {ok, status, data, problem}; problem (on errors) is {type, title, status, detail, field, raw}
  // with a detail a person can read, in the page's language when the API gives none.
  function api(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json, application/problem+json", "Accept-Language": P.locale() }
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
      return { ok: false, status: 0, data: null, problem: { type: "", title: "", status: 0, detail: P.msg("jsErrNetwork"), field: "", raw: {} } };
    });
  }

  // toProblem reads an error response (res, its parsed JSON body or null) as a problem.
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
      problem.detail = after > 0 ? P.msg("jsErrRateLimited", { seconds: after }) : (problem.detail || P.msg("jsErrRateLimitedLater"));
    }
    if (!problem.detail) {
      problem.detail = res.status >= 500 ? P.msg("jsErrServer") : (problem.title || P.msg("jsErrUnexpected"));
    }
    return problem;
  }

  P.api = api;
  P.toProblem = toProblem;
})();
