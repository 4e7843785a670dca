"""Who may talk to a tuning chief: loopback only, or whoever holds the shared token. Light enough to
check before TensorFlow loads."""

from __future__ import annotations

import ipaddress
import os
import socket

from forecaster.errors import SettingsError

TOKEN_ENV = "FORECASTER_TUNE_TOKEN"


def split_address(option: str, address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SettingsError(f"--{option} {address}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), port


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (socket.gaierror, ValueError):
        return False


def resolve_token(token: str | None, chief: str | None) -> str | None:
    """The shared secret (--token, else $FORECASTER_TUNE_TOKEN); required for a chief beyond loopback."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if chief and token is None and not is_loopback(split_address("chief", chief)[0]):
        raise SettingsError(
            f"--chief {chief}: listens beyond this machine, so workers must prove who they are: give --token SECRET "
            f"(or set {TOKEN_ENV}) to the chief and to every worker"
        )
    return token
