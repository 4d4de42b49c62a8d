/* /verify/: the mailed link (/verify/#token=...) is checked at once; the code form is the other way. */
(function () {
  "use strict";
  var P = window.Portal;
  var code = P && P.codeForm();
  if (!code) {
    return;
  }
  var token = P.fragmentToken();
  if (token) {
    P.keepFragmentOnLanguageSwitch();
    code.verifyToken(token);
  }
})();
