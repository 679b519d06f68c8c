"""Secrets: operator API tokens and station passwords, stored only as hashes.

API tokens are 32 random bytes, so a plain SHA-256 is enough to store them.
Station passwords may be chosen by people (OCPP security profile 1/2 Basic
auth), so they get a salted scrypt hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def password_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_ok(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def is_loopback(remote_host: str | None) -> bool:
    if not remote_host:
        return False
    try:
        return ipaddress.ip_address(remote_host.split("%")[0]).is_loopback
    except ValueError:
        return False
