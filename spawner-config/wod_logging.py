"""The hub's request log, without wod's secrets.

JupyterHub's own log function (jupyterhub.log.log_request) already hides the values of query
parameters named like a secret (token, auth, key, code, state, _xsrf), so `/hub/wod-login?token=...`
is logged as `?token=[secret]`. wod also has secrets in paths (a participant's status link,
`/services/wod/status/<token>`, and the "check your mail" ticket, `/services/wod/registered/<ticket>`),
which the hub sees whenever the proxy has no route to the service (while it restarts), and URLs
carried inside other parameters (`/hub/login?next=/hub/wod-login%3Ftoken%3D...`). `log_request`
scrubs those too, then lets JupyterHub log the request as usual. The service's own log applies the
same rule (hub-service/src/log.ts, scrubUrl).
"""

import re
from urllib.parse import quote, unquote

from jupyterhub.log import log_request as hub_log_request

SECRET_SEGMENT = re.compile(r"(/(?:status|registered|work)/)[^/?#]+", re.IGNORECASE)
# a parameter whose name contains one of these has its value hidden (JupyterHub's list, and more)
SECRET_KEYS = ("token", "auth", "key", "code", "state", "_xsrf", "password", "secret", "ticket")


def scrub_uri(uri, depth=0):
    """A request URI as it may be logged: secret path segments and secret parameter values hidden."""
    path, sep, query = uri.partition("?")
    path = SECRET_SEGMENT.sub(r"\1[redacted]", path)
    if not sep:
        return path
    parts = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        if eq and value:
            if any(k in unquote(key).lower() for k in SECRET_KEYS):
                value = "[secret]"
            elif depth < 3:
                # a URL inside a parameter (next=...) is scrubbed by the same rule
                inner = unquote(value)
                scrubbed = scrub_uri(inner, depth + 1)
                if scrubbed != inner:
                    value = quote(scrubbed, safe="/[]")
        parts.append(key + eq + value)
    return path + sep + "&".join(parts)


def log_request(handler):
    """tornado's log_function for the hub: JupyterHub's, on a scrubbed URI."""
    request = handler.request
    uri = request.uri
    request.uri = scrub_uri(uri)
    try:
        hub_log_request(handler)
    finally:
        request.uri = uri


def request_summary(handler):
    """What tornado's `_request_summary` says of a request, scrubbed."""
    request = handler.request
    return f"{request.method} {scrub_uri(request.uri)} ({request.remote_ip})"
