"""A JupyterHub Authenticator that asks the wod service whether a login is valid.

JupyterHub authenticators must be Python; wod's accounts, students and passwords live in the wod
service (TypeScript). This shim forwards each login to the service over a local HTTP call carrying a
shared secret (a file of mode 0600 in the data folder) and accepts exactly what the service accepts:
a username and password, or a one-click start link (GET /hub/wod-login?token=...). It also asks again
now and then, and before every spawn, so that a student whose workshop has ended is logged out.
"""

import json
import re
from urllib.parse import quote

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Float, Unicode

STUDENT = re.compile(r"^student\d{1,6}$")


class WodLoginHandler(BaseHandler):
    """GET /hub/wod-login?token=...: the start link of a participant's mail, straight into JupyterLab."""

    async def get(self):
        token = self.get_argument("token", "")
        user = await self.login_user({"wod_start_token": token}) if token else None
        if user is None:
            raise web.HTTPError(403, "This start link is not valid any more: your workshop may have ended.")
        self.redirect(self.authenticator.landing.pop(user.name, None) or f"{self.base_url}user/{quote(user.name)}/lab")


class WodAuthenticator(Authenticator):
    service_url = Unicode(
        config=True,
        help="The wod service reached directly (not through the proxy), with its prefix, e.g. http://127.0.0.1:10101/services/wod",
    )
    secret_file = Unicode(config=True, help="File holding the secret shared with the wod service (mode 0600).")
    request_timeout = Float(10.0, config=True, help="Seconds to wait for the service's answer.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # where each student lands after logging in (the workshop's first notebook), by name
        self.landing = {}

    def get_handlers(self, app):
        return super().get_handlers(app) + [("/wod-login", WodLoginHandler)]

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
        if data.get("wod_start_token"):
            status, body = await self.ask_service("start-links", {"token": data["wod_start_token"]})
            username = body.get("name") if status == 200 else None
        else:
            username = (data.get("username") or "").strip().lower()
            password = data.get("password") or ""
            if not username or not password:
                return None
            status, body = await self.ask_service("logins", {"username": username, "password": password})
            if body.get("name") != username:
                username = None
        if status == 200 and username:
            if body.get("next"):
                self.landing[username] = body["next"]
            return {"name": username}
        if status not in (401, 403):
            self.log.warning("wod service answered %s to a login: %s", status, body.get("message"))
        return None

    async def refresh_user(self, user, handler=None):
        """Students may stay logged in only while their workshop runs."""
        if not STUDENT.match(user.name):
            return True
        request = HTTPRequest(
            f"{self.service_url}/internal/users/{quote(user.name)}",
            headers={"Authorization": f"Bearer {self._secret()}"},
            request_timeout=self.request_timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
            return bool(json.loads(response.body).get("valid"))
        except (HTTPClientError, OSError) as e:
            self.log.warning("wod service could not confirm %s (%s); keeping the session", user.name, e)
            return True
