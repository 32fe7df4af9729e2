// The API docs page: Swagger UI (loaded by the page, from this origin) on one service's OpenAPI.
// The key comes once, as ?token= (kept in the tab's session storage like the dashboard's); every request
// Swagger UI makes, the schema's and each "Try it out", carries it unless the user authorised otherwise.

import { apiKey } from "./api.js";

const root = document.getElementById("swagger-ui");
const key = apiKey();

window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  // The default asks a public validator for a badge: nothing leaves this origin.
  validatorUrl: null,
  presets: [window.SwaggerUIBundle.presets.apis],
  requestInterceptor: (request) => {
    if (!request.headers["X-API-Key"] && !request.headers.Authorization) request.headers["X-API-Key"] = key;
    return request;
  },
});
