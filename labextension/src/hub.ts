/** Where the hub serves the wod service, as seen from a student's JupyterLab page. Pure. */

/** `/services/wod/api/v1/` under the hub's base URL, from the page's hub prefix (`/hub/` or `/base/hub/`). */
export function serviceBaseUrl(hubPrefix: string, service = 'wod'): string {
  const base = hubPrefix.replace(/hub\/?$/, '');
  return `${base.endsWith('/') ? base : `${base}/`}services/${encodeURIComponent(service)}/api/v1/`;
}
