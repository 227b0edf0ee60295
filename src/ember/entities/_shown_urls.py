"""URLs fit to show in logs, errors and ``ember status``: never with a password."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

__all__ = ["without_password"]

SECRET_PARAMETERS: Final = frozenset({"password", "passfile", "sslpassword"})


def without_password(url: str) -> str:
    """``url`` with any password removed (from the user part and from the query)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    rest, hash_mark, fragment = rest.partition("#")
    rest, question_mark, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    user, at, hosts = authority.rpartition("@")
    if at:
        authority = f"{user.partition(':')[0]}@{hosts}"
    if question_mark:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(name, value) for name, value in pairs if name not in SECRET_PARAMETERS])
        question_mark = "?" if query else ""
    return f"{scheme}://{authority}{slash}{path}{question_mark}{query}{hash_mark}{fragment}"
