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

// Swagger UI leaves its parameter and body fields without a label: each
// gets an accessible name from its parameter's name as it appears.
(function () {
  var root = document.getElementById("swagger-ui");
  var name = function (field) {
    var row = field.closest("tr[data-param-name]");
    if (row) return "Parameter " + row.getAttribute("data-param-name");
    if (field.closest(".body-param")) return "Request body";
    return field.getAttribute("placeholder") || field.getAttribute("title") || field.getAttribute("name") || "Value";
  };
  var label = function () {
    root.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
      if (field.hasAttribute("aria-label") || field.hasAttribute("aria-labelledby") || field.closest("label")) return;
      if (field.id && document.querySelector('label[for="' + CSS.escape(field.id) + '"]')) return;
      field.setAttribute("aria-label", name(field));
    });
  };
  new MutationObserver(label).observe(root, { childList: true, subtree: true });
})();
