/** What JupyterHub tells a managed service through its environment. */
export interface HubEnv {
  serviceName: string;
  apiUrl: string;
  apiToken: string;
  /** e.g. /services/wod/ (trailing slash) */
  servicePrefix: string;
  /** where the service must listen, e.g. http://127.0.0.1:10101 */
  serviceUrl: string;
  /** the hub's base URL, e.g. / */
  baseUrl: string;
  clientId: string;
  /** relative, e.g. /services/wod/oauth_callback */
  oauthCallbackUrl: string;
  /** a visitor's token must carry one of these to use the service */
  accessScopes: string[];
}

export function readHubEnv(env: NodeJS.ProcessEnv): HubEnv {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: the wod service runs as a JupyterHub managed service (npm start)`);
    return value;
  };
  const name = need('JUPYTERHUB_SERVICE_NAME');
  return {
    serviceName: name,
    apiUrl: need('JUPYTERHUB_API_URL'),
    apiToken: need('JUPYTERHUB_API_TOKEN'),
    servicePrefix: need('JUPYTERHUB_SERVICE_PREFIX'),
    serviceUrl: need('JUPYTERHUB_SERVICE_URL'),
    baseUrl: env.JUPYTERHUB_BASE_URL ?? '/',
    clientId: env.JUPYTERHUB_CLIENT_ID ?? `service-${name}`,
    oauthCallbackUrl: env.JUPYTERHUB_OAUTH_CALLBACK_URL ?? `${need('JUPYTERHUB_SERVICE_PREFIX')}oauth_callback`,
    accessScopes: JSON.parse(env.JUPYTERHUB_OAUTH_ACCESS_SCOPES ?? '[]') as string[],
  };
}
