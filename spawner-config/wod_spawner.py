"""wod's spawners.

`remote_runtime_dir`, `maintenance_environment` and `kill_student_processes`, for `remote` mode run
on this host: each server's runtime files kept outside the home the service wipes through it; the
servers the service starts for its own work loading nothing from the home; a stopped server's
processes ended with it. `REMOTE_SERVER_ARGS` and `maintenance_variables` serve KubeSpawner's pods
too (wod_kubernetes.py).

`UnprivilegedLocalSpawner`, for `local` mode when wod runs as root: no participant process may run
as root. Every student's server runs as one unprivileged account that wod made (no login shell), in
the student's own home under students.homeRoot, which the service prepares and gives to that account.

`LimitedLocalProcessSpawner`, for `system-users` mode: each student's server joins the student's
cgroup (made by the service's CREATE step `limits`, hub-service/src/isolation/limits.ts) before it
drops root, so that the server and everything it starts (kernels, terminals) share the student's
memory, CPU and process limits.
"""

import os
import pwd
import signal

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner
from traitlets import Dict, List, Unicode


class UnprivilegedLocalSpawner(SimpleLocalProcessSpawner):
    run_as = Unicode(config=True, help="The unprivileged account every student's server runs as.")

    def make_preexec_fn(self, name):
        account = pwd.getpwnam(self.run_as)
        if account.pw_uid == 0:
            raise ValueError(f"students.localAccount {self.run_as} is root: students never run as root")
        home = self.home_dir

        def preexec():
            # A user without a workshop (an admin) gets an empty home of their own, made here as root.
            if not os.path.isdir(home):
                os.makedirs(home, 0o700)
                os.chown(home, account.pw_uid, account.pw_gid)
            os.setgid(account.pw_gid)
            os.setgroups([])
            os.setuid(account.pw_uid)
            os.chdir(home)

        return preexec


def remote_runtime_dir(runtime_root, name, run_as=None):
    """Remote mode: a student server's runtime folder, outside its home (which wod wipes through the
    server itself), private to the account the server runs as (run_as, when the hub is root)."""
    os.makedirs(runtime_root, 0o711, exist_ok=True)
    # the hub's umask (077) took the others' x away: the account must reach its own folder
    os.chmod(runtime_root, 0o711)
    folder = os.path.join(runtime_root, name)
    os.makedirs(folder, 0o700, exist_ok=True)
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(folder, account.pw_uid, account.pw_gid)
    os.chmod(folder, 0o700)


# Remote mode: what wod's CREATE, CLEANUP and wipes need of a student's server, checked against
# jupyter_server 2.x: hidden entries (.jupyter, dotfiles) listed, written and deleted, nothing hidden
# by name at the top of the home, and deletes that remove a folder whole instead of moving it to a
# trash. For this host's hub and for KubeSpawner's pods (wod_kubernetes.py).
REMOTE_SERVER_ARGS = [
    "--ContentsManager.allow_hidden=True",
    "--ContentsManager.hide_globs=[]",
    "--FileContentsManager.delete_to_trash=False",
    "--FileContentsManager.always_delete_dir=True",
]


def maintenance_variables(folder):
    """Remote mode: the environment of a server the service starts for its own work (its user option
    wod_maintenance), in which nothing of the participant's home is loaded: no user site (.pth files,
    sitecustomize under ~/.local), and Jupyter's config and data folders (~/.jupyter, ~/.local/share/jupyter:
    jupyter_server_config.py, server extensions enabled there) replaced by the empty ones `config` and
    `data` of `folder`, which the students' account cannot write. Only Python's and the system's own stay."""
    return {
        "JUPYTER_CONFIG_DIR": os.path.join(folder, "config"),
        "JUPYTER_DATA_DIR": os.path.join(folder, "data"),
        "PYTHONNOUSERSITE": "1",
        "JUPYTER_CONFIG_PATH": "",
        "JUPYTER_PREFER_ENV_PATH": "1",
    }


def maintenance_environment(runtime_root):
    """maintenance_variables on this host: its empty folders made by the hub (0755) under runtime_root."""
    env = maintenance_variables(os.path.join(runtime_root, ".maintenance"))
    for d in (env["JUPYTER_CONFIG_DIR"], env["JUPYTER_DATA_DIR"]):
        os.makedirs(d, 0o755, exist_ok=True)
        os.chmod(d, 0o755)
    return env


def kill_student_processes(api_url, name, uid):
    """Remote mode on this host: every process of a student's server, started in a session of its own
    (setsid, nohup) or not, found by its environment (JUPYTERHUB_API_URL of this hub and JUPYTERHUB_USER,
    as hub-service/src/lifecycle/processes.ts finds them) among the processes of the account the
    servers run as, and killed: a stopped server must not leave anything that writes to the home."""
    markers = [f"\0JUPYTERHUB_API_URL={api_url}\0".encode(), f"\0JUPYTERHUB_USER={name}\0".encode()]
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = b"\0" + f.read()
            if all(m in environ for m in markers):
                os.kill(int(entry), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass  # gone, or not ours


def ensure_cgroups(dirs, site_writes):
    """A student's group is made by CREATE with the workshop's limits; when it is missing (the host
    rebooted since), it is made again here with the site's, from the writes the service computed."""
    if all(os.path.isdir(d) for d in dirs):
        return
    for write in site_writes:
        os.makedirs(os.path.dirname(write["path"]), exist_ok=True)
        try:
            with open(write["path"], "w") as f:
                f.write(write["value"])
        except FileNotFoundError:
            if not write["path"].endswith("memory.swap.max"):
                raise


class LimitedLocalProcessSpawner(LocalProcessSpawner):
    cgroup_dirs = List(
        Unicode(),
        config=True,
        help="The folders of a student's cgroup ({username} for the student): the server joins each before dropping root.",
    )
    cgroup_site_writes = List(Dict(), config=True, help="Files and values that make a missing group with the site's limits.")

    def _student_cgroups(self):
        name = self.user.name
        return (
            [d.replace("{username}", name) for d in self.cgroup_dirs],
            [{"path": w["path"].replace("{username}", name), "value": w["value"]} for w in self.cgroup_site_writes],
        )

    async def start(self):
        # In the hub, before forking: a failure here is a spawn error with its reason in the hub log.
        dirs, writes = self._student_cgroups()
        try:
            ensure_cgroups(dirs, writes)
        except OSError as e:
            raise RuntimeError(f"{self.user.name}: cannot prepare the student's cgroup ({e}): the server is not started unlimited") from e
        return await super().start()

    def make_preexec_fn(self, name):
        drop_root = super().make_preexec_fn(name)
        dirs, _ = self._student_cgroups()

        def preexec():
            # still root: join the student's group in every controller, then become the student
            pid = str(os.getpid())
            for d in dirs:
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(pid)
            drop_root()

        return preexec
