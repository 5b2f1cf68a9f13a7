// Swagger UI over the document the page names; "Try it out" sends the
// signed-in user's DirectLogin token the portal put on the page.
"use strict";
(function () {
  var el = document.getElementById("swagger-ui");
  var token = el.getAttribute("data-token");
  el.removeAttribute("data-token");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-url"),
    domNode: el,
    deepLinking: false,
    tryItOutEnabled: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (req) {
      var u = new URL(req.url, window.location.href);
      if (u.origin === window.location.origin && token) {
        req.headers["Authorization"] = 'DirectLogin token="' + token + '"';
      }
      return req;
    }
  });
})();
