/* /verify/: the code form, with the password chosen at registration. From the mailed link
   (/verify/#token=...) the form asks for that password only, and posts {token, password} once the
   person sends it: nothing is posted on load. */
(function () {
  "use strict";
  var P = window.Portal;
  var code = P && P.codeForm();
  if (!code) {
    return;
  }
  P.reloadOnNewToken();
  var token = P.fragmentToken();
  if (token) {
    code.useToken(token);
  }
})();
