"""Paths of the local stand-ins and free ports for the servers the tests start."""

import pathlib
import socket

LOCAL = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
