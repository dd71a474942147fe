"""The operator console over plain HTTP: accounts made with the real CLI, and a client that logs in.

The console's cookies are ``Secure``; httpx (rightly) keeps those off http://,
so ``ConsoleClient`` keeps them itself and sends them in an explicit ``Cookie``
header, as a browser would over the TLS-terminating proxy a station sits
behind. It also keeps the page's CSRF token (``data-csrf`` on ``<body>``).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp

from tests.support.stations import StationProcess, wait_for

BODY_CSRF = re.compile(r'<body data-csrf="([^"]*)"')
FORM_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]*)">')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
SECRET = re.compile(r'<code class="mono totp-secret">([A-Z2-7]+)</code>')  # a pending TOTP secret


def redline_cli(station: StationProcess, *args: str, stdin: str = "") -> str:
    """Run ``redline ARGS --data-dir <station>`` as the station's administrator would; its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "REDLINE_DATA_DIR"}
    result = subprocess.run(
        [
            *station.command_prefix(),
            sys.executable,
            "-m",
            "redline",
            *args,
            "--data-dir",
            str(station.data_dir),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, f"redline {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
    return result.stdout


@dataclass
class Account:
    """A console login: name, password, API token and (for supervisors and admins) a TOTP generator."""

    name: str
    role: str
    password: str
    token: str
    totp: pyotp.TOTP | None = None
    last_step: int | None = None

    def code(self) -> str:
        """A one-time code the station has not seen yet (one step ahead is within its allowed drift)."""
        assert self.totp is not None, f"{self.name} has no second factor"
        current = int(time.time() // 30)
        step = current if self.last_step is None else max(current, self.last_step + 1)
        if step > current + 1:  # used up the step ahead as well: wait for the clock
            wait_for(lambda: int(time.time() // 30) + 1 >= step, timeout=31, what="the next TOTP time step")
        self.last_step = step
        return str(self.totp.generate_otp(step))


def create_account(station: StationProcess, name: str, role: str = "operator") -> Account:
    """``redline operator add``, ``password --password-stdin`` and, when the role needs it, ``totp``."""
    token = redline_cli(station, "operator", "add", name, "--role", role).strip()
    password = f"pw-{name}-correct horse battery"
    redline_cli(station, "operator", "password", name, "--password-stdin", stdin=password + "\n")
    account = Account(name, role, password, token)
    if role in ("supervisor", "admin"):
        account.totp = totp_from_uri(redline_cli(station, "operator", "totp", name).strip())
    return account


def totp_from_uri(uri: str) -> pyotp.TOTP:
    otp = pyotp.parse_uri(html.unescape(uri))
    assert isinstance(otp, pyotp.TOTP), uri
    return otp


def error_text(response: httpx.Response) -> str:
    """The error a console page shows (login form or error page), unescaped."""
    found = ERROR.search(response.text)
    assert found, f"no error shown (status {response.status_code}): {response.text[:2000]}"
    return html.unescape(found.group(1).strip())


def set_cookie_headers(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets, by name, with its full Set-Cookie header."""
    return {h.split("=", 1)[0].strip(): h for h in response.headers.get_list("set-cookie")}


@dataclass
class ConsoleClient:
    """One browser's worth of console: its cookies and the CSRF token of the last page it loaded."""

    station: StationProcess
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.base_url = f"http://127.0.0.1:{self.station.api_port}"
        self.http = httpx.Client(base_url=self.base_url, timeout=20.0, follow_redirects=False)

    def __enter__(self) -> ConsoleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _absorb(self, response: httpx.Response) -> httpx.Response:
        for name, header in set_cookie_headers(response).items():
            value = header.split(";", 1)[0].split("=", 1)[1].strip().strip('"')
            if not value or "max-age=0" in header.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.http.cookies.clear()  # the client's own jar would never send them over http:// anyway
        found = (
            BODY_CSRF.search(response.text)
            if "text/html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.csrf = html.unescape(found.group(1))
        return response

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self._absorb(self.http.get(path, headers=self._headers(headers)))

    def post(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        csrf: str | None = None,
        with_csrf: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST a form; with the page's CSRF token unless ``with_csrf`` is False or ``csrf`` overrides it."""
        form = dict(data or {})
        if with_csrf:
            form["csrf"] = self.csrf if csrf is None else csrf
        return self._absorb(self.http.post(path, data=form, headers=self._headers(headers)))

    # -- logging in ---------------------------------------------------------

    def try_login(self, name: str, password: str, code: str = "") -> httpx.Response:
        """Load the login form (its cookie and hidden token), then submit it."""
        form = self.get("/login")
        assert form.status_code == 200, form.text
        found = FORM_CSRF.search(form.text)
        assert found, "the login form has no csrf field"
        data = {"name": name, "password": password, "code": code}
        return self.post("/login", data, csrf=html.unescape(found.group(1)))

    def login(self, account: Account) -> ConsoleClient:
        code = account.code() if account.totp is not None else ""
        response = self.try_login(account.name, account.password, code)
        assert response.status_code == 303, (
            f"login of {account.name}: {response.status_code} {response.text[:1500]}"
        )
        assert response.headers["location"] == "/traffic"
        page = self.get("/traffic")
        assert page.status_code == 200 and self.csrf, page.text[:1500]
        return self

    # -- doing things --------------------------------------------------------

    def send_text(self, text: str, precedence: str = "ROUTINE", to: str = "beijing") -> str:
        response = self.post(
            "/compose", {"mode": "text", "to": to, "precedence": precedence, "text": text, "lang": "en"}
        )
        assert response.status_code == 303, f"{response.status_code} {response.text[:1500]}"
        location = response.headers["location"]
        assert location.startswith("/traffic?sent="), location
        return location.removeprefix("/traffic?sent=")

    def events(self, page: str = "traffic", read_timeout: float = 10.0) -> Any:
        """The live event stream, as an open httpx stream context manager."""
        timeout = httpx.Timeout(10.0, read=read_timeout)
        return self.http.stream("GET", f"/events?page={page}", headers=self._headers(), timeout=timeout)


def server_sent_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) for each event of a text/event-stream; comments and retry lines skipped."""
    name, data = "message", list[str]()
    for line in response.iter_lines():
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())


def api_messages(station: StationProcess, box: str) -> list[dict[str, Any]]:
    with station.client() as c:
        r = c.get("/messages", params={"box": box})
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


def api_message(station: StationProcess, message_id: str) -> dict[str, Any]:
    with station.client() as c:
        r = c.get(f"/messages/{message_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def api_audit(station: StationProcess, token: str) -> list[dict[str, Any]]:
    with station.client(token) as c:
        r = c.get("/audit")
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


DUTY_PASSWORD = "duty-officer-correct horse battery"


def console_info(station: StationProcess) -> dict[str, Any]:
    """What `redline demo --info` says of a station, for the browser tests: its URLs, the API token
    of operator ``duty``, and ``duty``'s console login (its password set with the CLI)."""
    redline_cli(station, "operator", "password", "duty", "--password-stdin", stdin=DUTY_PASSWORD + "\n")
    return {
        "id": station.station_id,
        "api_url": station.api_url,
        "console_url": station.console_url,
        "token": station.token,
        "logins": [{"name": "duty", "role": "operator", "password": DUTY_PASSWORD}],
    }
