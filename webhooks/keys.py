"""Keys derived from SECRET_KEY: the one that encrypts webhook URLs, and members' signing secrets.

Each purpose has its own key, derived by HKDF-SHA256 with a purpose label, so neither can be
computed from the other. With SECRET_KEY_FALLBACKS, URLs encrypted under an older
SECRET_KEY still decrypt; signing secrets always follow the current SECRET_KEY (a change of
it changes every member's secret, as rotating would).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

URL_PURPOSE = b"deerweb.webhooks.url"
SIGNING_PURPOSE = b"deerweb.webhooks.signing"
# Standard Webhooks' (and Replicate's) secret format: whsec_ + base64.
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())


def _fernet() -> MultiFernet:
    secret_keys = [str(settings.SECRET_KEY), *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key, URL_PURPOSE))) for key in secret_keys])


def url_encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


def url_decrypt(token: str) -> str:
    """The URL; raises cryptography.fernet.InvalidToken when no current or fallback key opens it."""
    return _fernet().decrypt(token.encode()).decode()


def signing_secret(member_id: int, salt: str) -> str:
    """A member's signing secret: HMAC-SHA256 under the signing key of their id and salt."""
    key = _derive(str(settings.SECRET_KEY), SIGNING_PURPOSE)
    digest = hmac.new(key, f"{member_id}:{salt}".encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()
