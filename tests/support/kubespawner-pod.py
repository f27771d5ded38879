"""What the Zero to JupyterHub hub would do with `wod kubernetes values`, up to the pods KubeSpawner
would create, without a cluster: the chart's hub.config applied, hub.extraFiles written (under a
scratch root), singleuser.extraEnv set, hub.extraConfig run with the chart's z2jh.get_config over the values; then the
JupyterHub app's classes, and for each `student=<user_options as JSON>` argument a real KubeSpawner
(_mock: no hub, no API server; a throw-away kubeconfig in KUBECONFIG) through what a spawn runs
before its API call: the pre-spawn hook, load_user_options, get_pod_manifest and get_pvc_manifest.
Prints JSON: the classes, the request log function, the shim's proxy pods, and each student's pod and claim as the Kubernetes API would receive them.

With --logins '<{"proxyPods": [addresses], "attempts": [{peer, forwardedFor, username, password}]}>'
instead, the hub's authenticator (as configured) is asked each login in turn as if it came from
`peer` (the proxy pods' addresses as the Kubernetes API would list them): prints each outcome,
"accepted", "refused" or "throttled".

Usage: python kubespawner-pod.py <values.json> <scratch root> student1='{}' student2='{"wod_maintenance": true}'
       python kubespawner-pod.py <values.json> <scratch root> --logins '{...}'
"""

import asyncio
import json
import os
import sys
import types

from traitlets.config import Config

values_file, scratch, *seats = sys.argv[1:]
with open(values_file) as f:
    values = json.load(f)


def get_config(key, default=None):
    """The chart's z2jh.get_config: a dotted key of the values."""
    value = values
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


sys.modules["z2jh"] = types.SimpleNamespace(get_config=get_config)

c = Config()
for app, settings in values["hub"]["config"].items():
    c[app].update(settings)
wod_dir = None
for extra in values["hub"]["extraFiles"].values():
    path = scratch + extra["mountPath"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(extra["stringData"])
    wod_dir = os.path.dirname(extra["mountPath"])
# as the chart's jupyterhub_config.py does before extraConfig: the site's singleuser.extraEnv
if get_config("singleuser.extraEnv"):
    c.KubeSpawner.environment = dict(get_config("singleuser.extraEnv"))
for key, code in sorted(values["hub"]["extraConfig"].items()):
    exec(code.replace(json.dumps(wod_dir), json.dumps(scratch + wod_dir)), {"c": c})

from jupyterhub.app import JupyterHub  # noqa: E402
from jupyterhub.utils import maybe_future  # noqa: E402
from kubernetes_asyncio.client import ApiClient  # noqa: E402
from kubespawner import KubeSpawner  # noqa: E402

hub = JupyterHub(config=c)


class User:
    def __init__(self, name, uid):
        self.name = name
        self.id = uid
        self.url = f"/user/{name}/"


async def spawn(name, options, uid):
    spawner = KubeSpawner(_mock=True, config=c, user=User(name, uid))
    spawner.user_options = options
    await maybe_future(spawner.run_pre_spawn_hook())
    await spawner.load_user_options()
    return await spawner.get_pod_manifest(), spawner.get_pvc_manifest()


async def main():
    api = ApiClient()
    log_function = hub.tornado_settings.get("log_function")
    out = {
        "spawner_class": f"{hub.spawner_class.__module__}.{hub.spawner_class.__name__}",
        "authenticator_class": hub.authenticator_class.__name__,
        "log_function": log_function and f"{log_function.__module__}.{log_function.__name__}",
        "proxy_pods": c.WodAuthenticator.proxy_pods,
        "seats": {},
    }
    for uid, seat in enumerate(seats, start=1):
        name, _, options = seat.partition("=")
        pod, pvc = await spawn(name, json.loads(options or "{}"), uid)
        out["seats"][name] = {"pod": api.sanitize_for_serialization(pod), "pvc": api.sanitize_for_serialization(pvc)}
    await api.close()
    print(json.dumps(out))


async def logins(plan):
    from tornado import web
    from tornado.httputil import HTTPHeaders
    from wod_authenticator import ProxyPods

    authenticator = hub.authenticator_class(config=c)

    async def listed():
        return plan["proxyPods"]

    authenticator.proxy_pods_addresses = ProxyPods(listed, authenticator.log)
    outcomes = []
    for attempt in plan["attempts"]:
        headers = HTTPHeaders()
        if attempt.get("forwardedFor"):
            headers.add("X-Forwarded-For", attempt["forwardedFor"])
        connection = types.SimpleNamespace(context=types.SimpleNamespace(address=(attempt["peer"], 40000)), stream=None)
        handler = types.SimpleNamespace(request=types.SimpleNamespace(connection=connection, headers=headers))
        try:
            user = await authenticator.authenticate(handler, {"username": attempt["username"], "password": attempt["password"]})
            outcomes.append("accepted" if user else "refused")
        except web.HTTPError as e:
            outcomes.append("throttled" if e.status_code == 429 else f"error {e.status_code}")
    print(json.dumps(outcomes))


if seats[:1] == ["--logins"]:
    asyncio.run(logins(json.loads(seats[1])))
else:
    asyncio.run(main())
