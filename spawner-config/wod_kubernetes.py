"""wod on a Zero to JupyterHub hub: the students' servers as KubeSpawner pods.

The chart's `hub.extraConfig` (written by `wod kubernetes values`, hub-service/src/kubernetes) calls
`configure(c, settings)` with the values' `custom.wod`, which wod derived from its configuration:

- logins go through the authenticator shim (wod_authenticator.py), which asks the wod service's pod;
- every pod runs the student image with the options remote mode needs (wod_spawner.REMOTE_SERVER_ARGS),
  its runtime files outside the home, and the home on a volume claim of its own (`kubespawner`);
- before each spawn the hub asks the service which workshop the student's seat is for, and gives
  the pod that workshop's limits (`seat_hook`). Never from user_options: anyone may start their own
  server through the hub's API with options of their choosing.

Applied after the chart's own settings (extraConfig runs last), so the pod is what wod derived.
"""

import json
import os
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from wod_authenticator import configure_logins
from wod_spawner import REMOTE_SERVER_ARGS, maintenance_variables

# Outside the home (a volume wod empties through the server itself): the server's kernel files.
RUNTIME_DIR = "/tmp/jupyter-runtime"


def configure(c, settings):
    """The hub's configuration for wod's students on Kubernetes, from the values' custom.wod."""
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    configure_logins(c, settings["serviceUrl"], settings["secretFile"], settings["admins"], settings["servicePrefix"])
    # The students' pods reach the hub too, from the same pod network as the proxy: only the chart's
    # proxy and HTTPS pods (its labels; of this release, which the chart gives its hub as
    # HELM_RELEASE_NAME) may say who a visitor is.
    release = os.environ.get("HELM_RELEASE_NAME")
    c.WodAuthenticator.proxy_pods = "app=jupyterhub,component in (proxy,autohttps)" + (f",release={release}" if release else "")

    for trait, value in settings["kubespawner"].items():
        setattr(c.KubeSpawner, trait, value)
    c.KubeSpawner.args = REMOTE_SERVER_ARGS
    # Merged with the chart's (singleuser.extraEnv of the site's values). The volumes above replace the
    # chart's: a site adds its own under custom.wod.kubespawner.volumes and volume_mounts (GUIDE.md).
    c.KubeSpawner.environment.update({"JUPYTER_RUNTIME_DIR": RUNTIME_DIR})
    # The token JupyterHub gives each JupyterLab page may also call the wod service (the extension's API).
    c.KubeSpawner.oauth_client_allowed_scopes = [f"access:services!service={settings['serviceName']}"]
    c.KubeSpawner.pre_spawn_hook = seat_hook(settings["serviceUrl"], settings["secretFile"], maintenance_variables(settings["maintenanceDir"]))


def seat_hook(service_url, secret_file, maintenance, timeout=10.0):
    """A pre_spawn_hook: the pod gets the limits of the workshop the student's seat is deployed for,
    as the service answers (GET <service>/internal/seats/<name>, hub-service/src/web/internal.ts), and
    a server the service starts for its own work (user option wod_maintenance, only the exact `true`)
    loads nothing from the home. No answer, no pod: a seat is never started with limits nobody chose."""

    async def pre_spawn(spawner):
        with open(secret_file) as f:
            secret = f.read().strip()
        request = HTTPRequest(
            f"{service_url}/internal/seats/{quote(spawner.user.name)}",
            headers={"Authorization": f"Bearer {secret}"},
            request_timeout=timeout,
        )
        try:
            seat = json.loads((await AsyncHTTPClient().fetch(request)).body)
        except (HTTPClientError, OSError) as e:
            raise RuntimeError(f"{spawner.user.name}: the wod service did not say which limits apply ({e}): no server") from e
        limits = seat["limits"]
        spawner.mem_limit = limits["memoryBytes"]
        spawner.cpu_limit = None if limits["cpu"] is None else float(limits["cpu"])
        spawner.log.info("%s: limits of %s: %s", spawner.user.name, seat["workshop"] or "the site", limits)
        if spawner.user_options.get("wod_maintenance") is True:
            spawner.environment = {**spawner.environment, **maintenance}

    return pre_spawn
