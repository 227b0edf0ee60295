"""Passwords, session tokens and seat tokens: pure functions, no I/O.

- A password is kept only as a ``hashlib.scrypt`` hash (memory-hard) with a
  random 16-byte salt and its cost parameters, so they can be raised later.
- A session token is ``base64url(username:expiry).base64url(hmac)``: HMAC-SHA256
  with the cluster's secret, checked by any gateway without a lookup.
- A seat token is 128 random bits, kept by the player's session: whoever shows
  the current one (with a valid session token) takes the seat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from typing import Any

__all__ = [
    "PASSWORD_COST",
    "USERNAME",
    "check_password",
    "hash_password",
    "issue_token",
    "new_seat",
    "verify_token",
]

USERNAME = re.compile(r"[a-z0-9_-]{3,32}")
"""What a username may be."""

PASSWORD_COST = 2**14
"""scrypt's ``n`` for new passwords: 16 MiB and about 50 ms here (r=8, p=1).
A cluster may set a lower one (``--config scrypt_n=2048``) for load tests."""

TOKEN_LIFETIME = 24 * 3600.0


def hash_password(password: str, n: int = PASSWORD_COST) -> dict[str, Any]:
    """A record to store for ``password``: salt, cost and scrypt hash.

    CPU-bound for ``n`` (tens of ms at the default): call it off the event loop
    (``asyncio.to_thread``; scrypt releases the GIL).
    """
    if n < 2 or n & (n - 1):
        raise ValueError(f"scrypt n must be a power of 2 above 1, not {n}")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=2**26)
    return {"salt": salt, "n": n, "hash": digest}


def check_password(password: str, record: dict[str, Any]) -> bool:
    """Whether ``password`` matches the stored ``record`` (constant-time compare)."""
    digest = hashlib.scrypt(
        password.encode(), salt=record["salt"], n=record["n"], r=8, p=1, maxmem=2**26
    )
    return hmac.compare_digest(digest, record["hash"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(username: str, secret: bytes, now: float | None = None) -> str:
    """A session token for ``username``, valid for 24 h from ``now``."""
    expiry = int((time.time() if now is None else now) + TOKEN_LIFETIME)
    body = f"{username}:{expiry}".encode()
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify_token(token: object, secret: bytes, now: float | None = None) -> str | None:
    """The username ``token`` was issued to, or None if it is not a valid, unexpired
    token of this secret (any malformed input gives None, never an exception)."""
    if not isinstance(token, str) or len(token) > 512 or token.count(".") != 1:
        return None
    body_text, mac_text = token.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        return None
    username, _, expiry = body.decode(errors="replace").rpartition(":")
    if not (expiry.isascii() and expiry.isdigit()):
        return None
    if int(expiry) < (time.time() if now is None else now):
        return None
    return username if USERNAME.fullmatch(username) else None


def new_seat() -> str:
    """A fresh seat token."""
    return secrets.token_urlsafe(16)
