// One strict Content-Security-Policy for every way the renderer is served: Electron sets it as a
// response header (session.webRequest.onHeadersReceived), the browser host sends it with every
// response, and src/renderer/index.html repeats it in a meta tag for file:// loads, which carry no
// headers. Nothing inline, nothing remote: the renderer is static files from our own origin.

export const contentSecurityPolicyDirectives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
} as const satisfies Record<string, readonly string[]>;

export const contentSecurityPolicy: string = Object.entries(contentSecurityPolicyDirectives)
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join('; ');
