"""A JupyterHub Authenticator that asks the wod service whether a login is valid.

JupyterHub authenticators must be Python; wod's accounts, students and passwords live in the wod
service (TypeScript). This shim forwards each login to the service over a local HTTP call carrying a
shared secret (a file of mode 0600 in the data folder) and accepts exactly what the service accepts:
a username and password, or a one-click start link (GET /hub/wod-login?token=...). It also asks again
now and then, and before every spawn, so that a student whose workshop has ended is logged out.

With each password it says which connection the login came on (the hub's peer, that peer's
X-Forwarded-For, the hub's uid): the service works out the client address from it and slows
guessing per name and address (hub-service/src/accounts/login-throttle.ts). On Kubernetes the
students' pods reach the hub directly, from addresses of the same pod network as the chart's proxy:
the X-Forwarded-For is passed on only when the peer is one of the proxy pods (`proxy_pods`), whose
addresses the hub reads from the Kubernetes API (ProxyPods), and the client is the entry the chart's
pods appended: the proxy's, or the one before the HTTPS pod's (autohttps) when it is in front. A refusal for too many
failures shows "Too many attempts, try later." on the login page, with a Retry-After.

Start-link tokens are secrets: a refused link is answered without tornado logging its URL.
"""

import json
import os
import re
import time
from urllib.parse import quote

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Any, Float, Unicode, default
from wod_logging import log_request, request_summary

STUDENT = re.compile(r"^student\d{1,6}$")
START_LINK_REFUSED = "This start link is not valid any more: your workshop may have ended."


def user_error(status, message, headers=None):
    """An HTTPError whose message is shown to the person and never logged (no log_message)."""
    error = web.HTTPError(status)
    error.jupyterhub_message = message
    if headers:
        error.headers = headers
    return error


def connection_of(handler):
    """The connection a request came on, as the hub saw it: what the service needs to tell who sent it."""
    request = handler.request
    connection = request.connection
    address = getattr(getattr(connection, "context", None), "address", None)
    peer = address if isinstance(address, tuple) and len(address) >= 2 else ("", None)
    local = ("", None)
    sock = getattr(getattr(connection, "stream", None), "socket", None)
    if sock is not None:
        try:
            local = sock.getsockname()
        except OSError:
            pass
    return {
        "peer": peer[0],
        "peerPort": peer[1],
        "local": local[0],
        "localPort": local[1],
        "forwardedFor": ",".join(request.headers.get_list("X-Forwarded-For")),
        "uid": os.getuid(),
    }


def unmapped(address):
    """`::ffff:10.1.2.3` as `10.1.2.3`: a dual-stack socket reports its IPv4 peers that way."""
    return address[7:] if address.lower().startswith("::ffff:") and "." in address else address


class ProxyPods:
    """The addresses of the chart's proxy pods, read from the Kubernetes API (the chart's role lets the
    hub list its namespace's pods), kept `ttl` seconds; an address not among them reads them again,
    at most every `retry` seconds (a proxy pod started again has a new address). An unreadable list
    is an empty one: nobody's X-Forwarded-For is believed then, never a student's."""

    def __init__(self, list_addresses, log, ttl=30.0, retry=5.0):
        self.list_addresses = list_addresses
        self.log = log
        self.ttl = ttl
        self.retry = retry
        self.addresses = set()
        self.read_at = None

    async def has(self, address):
        address = unmapped(address)
        now = time.monotonic()
        stale = self.read_at is None or now - self.read_at > self.ttl
        if stale or (address not in self.addresses and now - self.read_at > self.retry):
            self.read_at = now
            try:
                self.addresses = {unmapped(a) for a in await self.list_addresses()}
            except Exception as e:  # the API's errors are of many kinds; any of them means "not known"
                self.log.error("wod: the proxy pods' addresses could not be read (%s): no X-Forwarded-For believed", e)
                self.addresses = set()
        return address in self.addresses


def kubernetes_pod_addresses(selector):
    """Lists the addresses of the pods of the hub's namespace matching a label selector."""

    async def list_addresses():
        from kubespawner.clients import load_config, shared_client

        load_config()  # the pod's service account, as KubeSpawner loads it (once: cached)
        pods = await shared_client("CoreV1Api").list_namespaced_pod(os.environ["POD_NAMESPACE"], label_selector=selector)
        # a pod that has ended keeps its address in its status, which another pod may be given since
        running = [pod.status for pod in pods.items if pod.status.phase == "Running"]
        return [ip.ip for status in running for ip in (status.pod_ips or [])] + [status.pod_ip for status in running if status.pod_ip]

    return list_addresses


def configure_logins(c, service_url, secret_file, admins, service_prefix):
    """The hub's login settings, on one host (jupyterhub_config.py) as on Kubernetes (wod_kubernetes.py):
    `service_url` is the service reached directly with its prefix, `secret_file` the shared secret."""
    c.JupyterHub.authenticator_class = WodAuthenticator
    c.JupyterHub.default_url = landing_url(service_prefix)
    # The hub's request log hides wod's secrets as well as JupyterHub's: status links and tickets in
    # paths, start links inside next=... (wod_logging.py). Merged: the chart sets tornado_settings too.
    c.JupyterHub.tornado_settings.update({"log_function": log_request})
    c.WodAuthenticator.service_url = service_url
    c.WodAuthenticator.secret_file = secret_file
    c.Authenticator.admin_users = set(admins)
    # The service decides who may log in; nobody gets past the shim without its yes.
    c.Authenticator.allow_all = True
    # ... and may change its mind: a student whose workshop ended is logged out, and cannot spawn.
    c.Authenticator.auth_refresh_age = 60
    c.Authenticator.refresh_pre_spawn = True


def landing_url(service_prefix):
    """The hub's default_url: after logging in, a student lands on the workshop's first notebook (what
    the service answered to the login), anyone else on the portal (the service's prefix)."""

    def default_url(handler):
        user = handler.current_user
        if user is not None and STUDENT.match(user.name):
            return handler.authenticator.landing.pop(user.name, None) or f"/user/{user.name}/lab"
        return service_prefix

    return default_url


class WodLoginHandler(BaseHandler):
    """GET /hub/wod-login?token=...: the start link of a participant's mail, straight into JupyterLab."""

    async def get(self):
        token = self.get_argument("token", "")
        user = await self.login_user({"wod_start_token": token}) if token else None
        if user is None:
            # Not raised: tornado would log the refusal with the whole URL, token included.
            self.send_error(403, exc_info=(web.HTTPError, user_error(403, START_LINK_REFUSED), None))
            return
        self.redirect(self.authenticator.landing.pop(user.name, None) or f"{self.base_url}user/{quote(user.name)}/lab")

    def log_exception(self, typ, value, tb):
        """As tornado logs a failed request, with the URL scrubbed (and no dump of the request)."""
        if isinstance(value, web.HTTPError):
            if value.log_message:
                self.log.warning("%d %s: %s", value.status_code, request_summary(self), value.get_message())
        else:
            self.log.error("Uncaught exception %s", request_summary(self), exc_info=(typ, value, tb))


class WodAuthenticator(Authenticator):
    service_url = Unicode(
        config=True,
        help="The wod service reached directly (not through the proxy), with its prefix, e.g. http://127.0.0.1:10101/services/wod",
    )
    secret_file = Unicode(config=True, help="File holding the secret shared with the wod service (mode 0600).")
    request_timeout = Float(10.0, config=True, help="Seconds to wait for the service's answer.")
    proxy_pods = Unicode(
        "",
        config=True,
        help="On Kubernetes, the label selector of the chart's proxy pods (and its HTTPS pod): only from them is X-Forwarded-For passed on. Empty: one host.",
    )

    # a ProxyPods for proxy_pods, None on one host
    proxy_pods_addresses = Any()

    @default("proxy_pods_addresses")
    def _proxy_pods_addresses(self):
        return ProxyPods(kubernetes_pod_addresses(self.proxy_pods), self.log) if self.proxy_pods else None

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
            status, body = await self.ask_service(
                "logins", {"username": username, "password": password, "client": await self.client_of(handler)}
            )
            if status == 429:
                retry = str(int(body.get("retryAfterSeconds") or 60))
                raise user_error(429, "Too many attempts, try later.", {"Retry-After": retry})
            if body.get("name") != username:
                username = None
        if status == 200 and username:
            if body.get("next"):
                self.landing[username] = body["next"]
            return {"name": username}
        if status not in (401, 403):
            self.log.warning("wod service answered %s to a login: %s", status, body.get("message"))
        return None

    async def client_of(self, handler):
        """connection_of(handler); on Kubernetes, with X-Forwarded-For only when the peer is a proxy pod,
        less the entries of the chart's own pods in front of it (autohttps, the chart's HTTPS): the
        entry before those is what they saw."""
        client = connection_of(handler)
        pods = self.proxy_pods_addresses
        if pods is None:
            return client
        if not await pods.has(client["peer"]):
            return {**client, "forwardedFor": ""}
        entries = [e.strip() for e in client["forwardedFor"].split(",") if e.strip()]
        while len(entries) > 1 and await pods.has(entries[-1]):
            entries.pop()
        return {**client, "forwardedFor": ",".join(entries), "proxy": True}

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
