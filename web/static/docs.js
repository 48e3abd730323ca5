// Starts Swagger UI on /docs from the locally served bundle (a file, not an inline script, for a strict CSP).
// validatorUrl null: no badge fetched from swagger.io (the page may reach this server only).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
