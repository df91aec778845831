"""deploy/nginx-stemspace.conf, run for real in front of the app (pytest-django's live server).

The site file is used as shipped, with only what a machine must change: its ports (free high
ones), the upstream (the live server), and the certificate (a throw-away self-signed one). The
checks: plain HTTP redirects to HTTPS except /healthz for the load balancer; HTTPS reaches the
app, which then sees the request as secure; sign-ins are rate-limited by nginx before the app;
bodies over the upload limit stop at nginx.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests import factories as f

SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx-stemspace.conf"
HOST = "stem.example.vn"  # the site's server_name
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def site_for(upstream: str, http_port: int, https_port: int, cert: Path, key: Path) -> str:
    site = SITE.read_text()
    replacements = [
        (r"server 127\.0\.0\.1:8000", f"server {upstream}"),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"ssl_certificate +\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key +\S+;", f"ssl_certificate_key {key};"),
    ]
    for pattern, replacement in replacements:
        site, count = re.subn(pattern, replacement, site)
        assert count == 1, f"{pattern!r} no longer in {SITE.name}: update this test"
    return site


@pytest.fixture
def nginx(live_server: Any, settings: Any, tmp_path: Path) -> Iterator[dict[str, int]]:
    assert Path(NGINX).exists(), "nginx is missing: make test installs it (scripts/test-packages.sh)"
    settings.ALLOWED_HOSTS = [HOST]
    settings.AXES_FAILURE_LIMIT = 1000  # the lock-out is the app's own limit, tested elsewhere
    # What BEHIND_PROXY=1 sets (tests/test_deploy.py checks that it does).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ports = {"http": free_port(), "https": free_port()}
    upstream = live_server.url.removeprefix("http://")
    (tmp_path / "site.conf").write_text(
        site_for(upstream, ports["http"], ports["https"], cert, key))
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        "daemon off;\nevents {}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/site.conf;\n}}\n")
    command = [NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", ports["https"]), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.05)
        yield ports
    finally:
        server.terminate()
        server.wait(timeout=10)


def fetch(ports: dict[str, int], scheme: str, method: str, path: str, body: bytes = b"",
          headers: dict[str, str] | None = None, client: str = "127.0.0.1"
          ) -> tuple[int, dict[str, str], bytes]:
    """One request to nginx from `client` (any 127.x.y.z address: Linux answers them all on
    the loopback), so that nginx and the app see different callers."""
    source = (client, 0)
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the throw-away certificate
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", ports["https"], context=context, timeout=30, source_address=source)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=30,
                                                source_address=source)
    try:
        connection.request(method, path, body=body,
                           headers={"Host": HOST, "Accept-Language": "vi", **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_plain_http_goes_to_https_but_the_load_balancer_reaches_healthz(nginx):
    status, headers, _body = fetch(nginx, "http", "GET", "/projects/?q=robot")
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/projects/?q=robot"

    status, _headers, body = fetch(nginx, "http", "GET", "/healthz")
    assert status == 200 and json.loads(body)["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_https_reaches_the_app_which_sees_a_secure_request(nginx):
    f.school(slug="ndc", name="THPT Chuyên Nguyễn Đình Chiểu")
    f.school(slug="tm", name="THPT Tháp Mười")

    status, _headers, body = fetch(nginx, "https", "GET", "/")
    assert status == 200 and "THPT Tháp Mười" in body.decode()
    # Links the app makes carry the scheme nginx said (X-Forwarded-Proto), not http.
    status, _headers, body = fetch(nginx, "https", "GET", "/api/v1/schools/?page_size=1")
    assert status == 200
    assert json.loads(body)["next"] == f"https://{HOST}/api/v1/schools/?page=2&page_size=1"


def sign_in(nginx: dict[str, int], client: str, username: str = "ai.do",
            forwarded: str = "") -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return fetch(nginx, "https", "POST", "/api/v1/auth/token/",
                 json.dumps({"username": username, "password": "sai"}).encode(), headers, client)


@pytest.mark.django_db(transaction=True)
def test_nginx_limits_sign_ins_per_address_before_the_app(nginx, settings, monkeypatch):
    # The app's own limits are not what this is about.
    settings.AXES_FAILURE_LIMIT = 1000
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"login": "1000/min"})

    answers = [sign_in(nginx, "127.0.0.2", f"hs{n}") for n in range(40)]

    # A whole class behind the school's one address may sign in at once (burst 30 on top of
    # the first); a flood beyond that stops at nginx, with its own page.
    statuses = [status for status, _headers, _body in answers]
    assert statuses[:31] == [400] * 31, statuses
    refused = [body for status, _headers, body in answers[31:] if status == 429]
    assert refused and all(b"nginx" in body for body in refused), statuses
    # Another address is not held back, nor are other pages.
    assert sign_in(nginx, "127.0.0.3")[0] == 400
    assert fetch(nginx, "https", "GET", "/healthz", client="127.0.0.2")[0] == 200


@pytest.mark.django_db(transaction=True)
def test_behind_nginx_the_app_locks_out_the_address_that_guessed_not_everyone(nginx, settings):
    settings.AXES_FAILURE_LIMIT = 3
    # Three wrong passwords lock the account from that address (django-axes: the third answer
    # already says so). A forged X-Forwarded-For does not make the guesser someone else.
    guesses = [sign_in(nginx, "127.0.0.2", "hs.ndc.1", forwarded=f"198.51.100.{n}")[0]
               for n in range(3)]
    locked, _headers, _body = sign_in(nginx, "127.0.0.2", "hs.ndc.1", forwarded="192.0.2.1")
    elsewhere, _headers, _body = sign_in(nginx, "127.0.0.3", "hs.ndc.1")

    assert guesses == [400, 400, 429] and locked == 429
    assert elsewhere == 400  # the student, in class at another address, may still try


@pytest.mark.django_db(transaction=True)
def test_bodies_over_the_upload_limit_stop_at_nginx(nginx):
    status, _headers, body = fetch(nginx, "https", "POST", "/api/v1/projects/1/log/1/attachments/",
                                   b"x" * (13 * 1024 * 1024),
                                   {"Content-Type": "application/octet-stream"})
    assert status == 413 and b"nginx" in body
