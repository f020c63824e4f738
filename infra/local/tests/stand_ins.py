"""Paths of the local stand-ins, free ports, and aws_server.py started for a test."""

import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

LOCAL = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_aws_server(*options, stderr=subprocess.DEVNULL):
    """(process, URL) of an aws_server.py on a free port, with `options`, once it answers.
    The caller stops it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(LOCAL / "aws_server.py"), "-H", "127.0.0.1", "-p", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return server, url
        except urllib.error.HTTPError:
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("aws_server.py did not start") from None
            time.sleep(0.1)
