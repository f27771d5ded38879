"""JupyterHub configuration for wod.

Everything comes from the one wod configuration (wod.yaml plus WOD_* environment variables), which
the wod command line resolves: `wod prepare --json` also creates the data folder, the secrets and the
admin accounts when they are missing, so this file works whether the hub is started by `npm start`
or directly with `jupyterhub -f spawner-config/jupyterhub_config.py`.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from wod_authenticator import STUDENT, configure_logins  # noqa: E402

c = get_config()  # noqa: F821 (provided by JupyterHub)

# What the hub writes (its database, the proxy's pid file) is for wod alone, from the first byte.
os.umask(0o077)

NODE = os.environ.get("WOD_NODE") or shutil.which("node") or "node"
WOD_CLI = str(ROOT / "hub-service" / "dist" / "cli" / "main.js")

prepared = json.loads(
    subprocess.run([NODE, WOD_CLI, "prepare", "--json"], check=True, capture_output=True, text=True).stdout
)
wod = prepared["config"]
paths = prepared["paths"]
# the service's name and prefix (/services/wod/), owned by hub-service/src/config/urls.ts
service = prepared["service"]
for cred in prepared["created"]:
    # Only when the hub was started without `wod start`, which prints these itself.
    print(f"wod: admin login (shown once): user {cred['name']}  password {cred['password']}", file=sys.stderr)

data_dir = Path(wod["dataDir"])
# The real path: in a private checkout .venv links to a folder every student account can read.
venv_bin = Path(paths["venv"]).resolve() / "bin"
service_url = f"http://127.0.0.1:{wod['service']['port']}"

# --- the hub and its proxy ---------------------------------------------------------------------
if wod.get("bindSocket"):
    # For a reverse proxy on this host: the public side is a Unix socket only bindSocketGroup may
    # connect to (wod start makes its folder, 2750), so no local account reaches it directly. Only
    # bind_url: setting ip or port too would rewrite it to TCP (base_url stays /, its path).
    c.JupyterHub.bind_url = "http+unix://" + quote(wod["bindSocket"], safe="") + "/"
else:
    c.JupyterHub.ip = wod["bindIp"]
    c.JupyterHub.port = wod["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = wod["hub"]["apiPort"]
c.JupyterHub.db_url = f"sqlite:///{paths['hubDatabase']}"
c.JupyterHub.cookie_secret_file = paths["hubCookieSecret"]
c.JupyterHub.pid_file = str(data_dir / "jupyterhub.pid")
chp = str(ROOT / "node_modules" / ".bin" / "configurable-http-proxy")
if wod.get("bindSocket"):
    # The proxy creates the socket under the hub's umask (0077, for its owner alone): 0007 makes
    # it 0770, so that the folder's group (the reverse proxy's) can connect, and nobody else.
    c.ConfigurableHTTPProxy.command = ["/bin/sh", "-c", 'umask 0007 && exec "$0" "$@"', chp]
else:
    c.ConfigurableHTTPProxy.command = [chp]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{wod['hub']['proxyApiPort']}"
c.ConfigurableHTTPProxy.pid_file = paths["proxyPid"]
c.JupyterHub.log_level = {"debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR"}[wod["log"]["level"]]

# --- the wod service ---------------------------------------------------------------------------
c.JupyterHub.services = [
    {
        "name": service["name"],
        "url": service_url,
        # service.wrapper: a command the service is started through, e.g. remote mode's test runs it
        # in a mount namespace where the homes folder is an empty tmpfs (the service never sees the homes).
        "command": wod["service"]["wrapper"] + [NODE, str(ROOT / "hub-service" / "dist" / "main.js")],
        "cwd": str(ROOT),
        # The service resolves the same configuration from the same inputs.
        "environment": {k: v for k, v in os.environ.items() if k.startswith("WOD_") or k == "NODE_OPTIONS"},
        "oauth_no_confirm": True,
        # The admin panel's OAuth token carries custom:wod:admin when its user holds it (the hub
        # intersects these with the user's own scopes); anyone else's carries access to wod only.
        "oauth_client_allowed_scopes": ["custom:wod:admin"],
        "display": True,
        "info": {"description": "Workshops-on-Demand: catalog, registrations and admin panel"},
    }
]
c.JupyterHub.custom_scopes = {
    "custom:wod:admin": {"description": "Run wod: workshops, registrations, the student pool, jobs and mail."},
}
c.JupyterHub.load_roles = [
    {
        "name": "wod-service",
        "description": "What the wod service needs to run students' accounts and servers",
        # Exactly what the hub client (hub-service/src/hub/client.ts) calls, each scope with its calls in
        # wod_service_scopes.json, which the Kubernetes values read too (hub-service/src/kubernetes).
        "scopes": list(json.loads((HERE / "wod_service_scopes.json").read_text())["scopes"]),
        "services": [service["name"]],
    },
    {
        # Every user may complete OAuth with the wod service (students use its pages too).
        "name": "user",
        "scopes": ["self", f"access:services!service={service['name']}"],
    },
    {
        # Admin rights in wod come from this scope on the token or OAuth session, never from the
        # admin flag: JupyterHub's own admin role cannot be given custom scopes, so the configured
        # hub admins are listed here too. The list is exact (set at each hub start); someone made
        # a hub admin later gets wod through the group, which hub admins edit in the hub's admin page.
        "name": "wod-admin",
        "description": "Runs wod: the admin panel and the admin REST API",
        "scopes": ["custom:wod:admin", f"access:services!service={service['name']}"],
        "users": sorted(set(wod["accounts"]["admins"]) | set(wod["accounts"]["wodAdmins"])),
        "groups": ["wod-admins"],
    },
]

# --- metrics -----------------------------------------------------------------------------------
# A token-only service (no command, no URL) whose token reads both the hub's /hub/metrics and wod's
# /services/wod/metrics, and nothing else: `wod metrics token` prints it for Prometheus. The token
# is a 0600 secret of the data folder (wod prepare makes it); the hub keeps only its hash.
c.JupyterHub.services.append({"name": "wod-metrics", "api_token": Path(paths["metricsToken"]).read_text().strip()})
c.JupyterHub.load_roles.append(
    {
        "name": "wod-metrics",
        "description": "Prometheus scrapes of /hub/metrics and /services/wod/metrics",
        "scopes": ["read:metrics"],
        "services": ["wod-metrics"],
    }
)

# --- logins: the shim asks the service (wod_authenticator.py), as on Kubernetes -------------------
configure_logins(c, f"{service_url}{service['prefix']}".rstrip("/"), paths["authSecret"], wod["accounts"]["admins"], service["prefix"])

# --- students' servers -------------------------------------------------------------------------
c.Spawner.cmd = [str(venv_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
# The token JupyterHub gives each JupyterLab page may also call the wod service (the extension's API).
c.Spawner.oauth_client_allowed_scopes = [f"access:services!service={service['name']}"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
# How soon the hub notices a server that died (the service then starts it again: lifecycle/reconcile.ts).
c.Spawner.poll_interval = 10
home_root = Path(wod["students"]["homeRoot"])
home_template = str(home_root / "{username}")
# remote mode runs the students here as local mode does: the spawner makes and owns the homes, which
# the service reaches only through each server's contents API (hub-service/src/lifecycle/remote-home.ts).
students_here = "local" if wod["students"]["mode"] == "remote" else wod["students"]["mode"]
if students_here == "local" and os.geteuid() != 0:
    # No root needed: every student runs as the invoking user, each with a home of their own.
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = home_template
elif students_here == "local":
    # Started as root: the students' servers run as wod's unprivileged account, never as root.
    from wod_spawner import UnprivilegedLocalSpawner

    c.JupyterHub.spawner_class = UnprivilegedLocalSpawner
    c.UnprivilegedLocalSpawner.home_dir_template = home_template
    c.UnprivilegedLocalSpawner.run_as = wod["students"]["localAccount"]
else:
    # Real Linux accounts studentN, homes under students.homeRoot, one uid each; each server (and
    # all it starts) in the student's cgroup, with its memory, CPU and process limits.
    from wod_spawner import LimitedLocalProcessSpawner

    c.JupyterHub.spawner_class = LimitedLocalProcessSpawner
    c.LocalProcessSpawner.notebook_dir = "~"
    limits = prepared.get("limits")
    if limits:
        c.LimitedLocalProcessSpawner.cgroup_dirs = limits["dirs"]
        c.LimitedLocalProcessSpawner.cgroup_site_writes = limits["siteWrites"]
    else:
        print("wod: per-student limits: no cgroup controller here, students' processes are not limited", file=sys.stderr)

    def students_only(spawner):
        # Another hub user's server would run as the Linux account of that name (root, for one).
        if not STUDENT.match(spawner.user.name):
            raise ValueError(f"{spawner.user.name} has no server here: in system-users mode only workshop students do")

    c.Spawner.pre_spawn_hook = students_only

if wod["students"]["mode"] == "remote":
    from wod_spawner import REMOTE_SERVER_ARGS, kill_student_processes, maintenance_environment, remote_runtime_dir

    c.Spawner.args = REMOTE_SERVER_ARGS
    # The server's own runtime files (kernel connection files) outside the home: a wipe must not pull them away.
    runtime_root = home_root / ".runtime"
    c.Spawner.environment["JUPYTER_RUNTIME_DIR"] = lambda spawner: str(runtime_root / spawner.user.name)
    run_as = wod["students"]["localAccount"] if os.geteuid() == 0 else None

    def remote_pre_spawn(spawner):
        remote_runtime_dir(runtime_root, spawner.user.name, run_as)
        # The service's own starts (hub-service/src/lifecycle/remote-home.ts) load nothing from the home.
        # A participant asking for it gets less, never more: only the exact `true` counts, no value is used.
        if spawner.user_options.get("wod_maintenance") is True:
            spawner.environment = {**spawner.environment, **maintenance_environment(runtime_root)}

    c.Spawner.pre_spawn_hook = remote_pre_spawn
    # Every student runs as one account here (no isolation between them, as in local mode): a stopped
    # server's processes, in sessions of their own too, are found by their environment and killed.
    students_uid = pwd.getpwnam(run_as).pw_uid if run_as else os.geteuid()
    c.Spawner.post_stop_hook = lambda spawner: kill_student_processes(spawner.hub.api_url, spawner.user.name, students_uid)
