// The API explorer at /docs: Swagger UI served from this installation, nothing from a CDN.
const root = document.getElementById("openapi");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  dom_id: "#openapi",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
