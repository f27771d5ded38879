"""The spawner of `local` mode when wod runs as root: no participant process may run as root.

Every student's server runs as one unprivileged account that wod made (no login shell), in the
student's own home under students.homeRoot, which the service prepares and gives to that account.
"""

import os
import pwd

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode


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
