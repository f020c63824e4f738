"""Starting the local issuer (infra/local/issuer) on a free port, and talking to its token endpoint."""

import contextlib
import http.client
import json
import os
import pathlib
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from stand_ins import free_port

ISSUER_DIR = pathlib.Path(__file__).resolve().parents[1] / "issuer"
AUDIENCE = "https://api.exampleco.com/timesheets"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def launch(tmp_path, clients, **env):
    """(process, URL with trailing slash, log path) of an issuer that was just started."""
    port = free_port()
    log = tmp_path / f"issuer-{port}.log"
    # The caller's DPoP settings must not leak into a test's issuer.
    base = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_")}
    proc = subprocess.Popen(
        ["node", "issuer.mjs"],
        cwd=ISSUER_DIR,
        env={**base, "ISSUER_PORT": str(port), "ISSUER_CLIENTS": json.dumps(clients), **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}/", log


def start_issuer(tmp_path, clients, **env):
    proc, url, log = launch(tmp_path, clients, **env)
    deadline = time.monotonic() + 20
    while "issuer ready" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"issuer did not start: {log.read_text()}")
        time.sleep(0.05)
    return proc, url, log


def stop_issuer(proc):
    proc.terminate()
    proc.wait(timeout=10)


@contextlib.contextmanager
def running_issuer(tmp_path, clients, **env):
    """Yields (URL, log path) of a started issuer, and stops it afterwards."""
    proc, url, log = start_issuer(tmp_path, clients, **env)
    try:
        yield url, log
    finally:
        stop_issuer(proc)


def refused_start(tmp_path, clients, **env):
    """(exit code, output) of an issuer that must refuse its configuration."""
    proc, _, log = launch(tmp_path, clients, **env)
    code = proc.wait(timeout=20)
    return code, log.read_text()


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def discovery(url):
    return get_json(url + ".well-known/openid-configuration")


def token_request(url, form, headers=None):
    """POST to the token endpoint; returns (status, headers, body)."""
    req = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.load(err)


def token_request_with_header_lines(url, form, lines):
    """POST with raw header lines, some of them repeated; returns (status, body)."""
    target = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
    body = urllib.parse.urlencode(form).encode()
    conn.putrequest("POST", target.path)
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    for name, value in lines:
        conn.putheader(name, value)
    conn.endheaders(body)
    resp = conn.getresponse()
    try:
        return resp.status, json.load(resp)
    finally:
        conn.close()
