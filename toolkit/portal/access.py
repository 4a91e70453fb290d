"""Who may see what on the portal: the clerk's password (scrypt, salted, stored in the archive)
and each roster unit's private link token (an HMAC of the portal's secret, the unit and the year:
unguessable, different every year, nothing stored per unit)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from toolkit.identity import unit_key

SECRET_KEY = "portal.secret"
PASSWORD_KEY = "portal.password"
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
TOKEN_BYTES = 24  # 192 bits


def new_secret() -> str:
    return secrets.token_hex(32)


def hash_password(password: str) -> str:
    """The stored form of a password: scrypt with a random salt, parameters kept beside it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **SCRYPT)
    return json.dumps({"salt": salt.hex(), "hash": digest.hex(), **SCRYPT})


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    record = json.loads(stored)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(record["salt"]), dklen=32,
                            n=record["n"], r=record["r"], p=record["p"])
    return hmac.compare_digest(digest.hex(), record["hash"])


def unit_token(secret: bytes, unit: str, year: int) -> str:
    """The private link token of ``unit`` for ``year``."""
    mac = hmac.new(secret, f"{unit_key(unit)}|{int(year)}".encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:TOKEN_BYTES]).decode("ascii").rstrip("=")


def portal_secret(archive) -> bytes:
    """The portal's secret from an open archive, made on first use."""
    return bytes.fromhex(archive.meta_default(SECRET_KEY, new_secret))


def unit_link(base_url: str, secret: bytes, unit: str, year: int) -> str:
    """A unit's private page: ``BASE/u/<token>``."""
    return f"{base_url.rstrip('/')}/u/{unit_token(secret, unit, year)}"


def portal_links(archive_path, units, year: int, base_url: str) -> dict[str, str]:
    """Each unit's private link for ``year`` (the secret lives in the archive file)."""
    from toolkit.archive import Archive

    with Archive(archive_path) as arch:
        secret = portal_secret(arch)
    return {unit: unit_link(base_url, secret, unit, year) for unit in units}
