// Starts Swagger UI or ReDoc on /openapi.json; nothing is fetched from outside this server.
(function () {
  "use strict";
  if (document.getElementById("swagger-ui") && window.SwaggerUIBundle) {
    window.SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
    });
  }
  var redoc = document.getElementById("redoc");
  if (redoc && window.Redoc) {
    window.Redoc.init(redoc.getAttribute("data-spec-url"), { disableSearch: false }, redoc);
  }
})();
