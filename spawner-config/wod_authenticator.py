"""A JupyterHub Authenticator that asks the wod service whether a login is valid.

JupyterHub authenticators must be Python; wod's accounts, students and passwords live in the wod
service (TypeScript). This shim forwards each login to the service over a local HTTP call carrying a
shared secret (a file of mode 0600 in the data folder) and accepts exactly what the service accepts.
"""

import json

from jupyterhub.auth import Authenticator
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Float, Unicode


class WodAuthenticator(Authenticator):
    service_url = Unicode(
        config=True,
        help="The wod service reached directly (not through the proxy), with its prefix, e.g. http://127.0.0.1:10101/services/wod",
    )
    secret_file = Unicode(config=True, help="File holding the secret shared with the wod service (mode 0600).")
    request_timeout = Float(10.0, config=True, help="Seconds to wait for the service's answer.")

    def _secret(self):
        with open(self.secret_file) as f:
            return f.read().strip()

    async def ask_service(self, path, body):
        """POST body to the service's internal API; returns (status, json body), status 0 when unreachable."""
        request = HTTPRequest(
            f"{self.service_url}/internal/{path}",
            method="POST",
            headers={"Authorization": f"Bearer {self._secret()}", "Content-Type": "application/json"},
            body=json.dumps(body),
            request_timeout=self.request_timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
            return response.code, json.loads(response.body or b"{}")
        except HTTPClientError as e:
            body = json.loads(e.response.body) if e.response is not None and e.response.body else {}
            return e.code, body
        except OSError as e:
            self.log.error("wod service unreachable at %s: %s", self.service_url, e)
            return 0, {}

    async def authenticate(self, handler, data):
        username = (data.get("username") or "").strip().lower()
        password = data.get("password") or ""
        if not username or not password:
            return None
        status, body = await self.ask_service("logins", {"username": username, "password": password})
        if status == 200 and body.get("name") == username:
            return {"name": username}
        if status not in (401, 403):
            self.log.warning("wod service answered %s to a login for %s: %s", status, username, body.get("message"))
        else:
            self.log.info("login refused for %s", username)
        return None
