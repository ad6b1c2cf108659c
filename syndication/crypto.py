"""Channel tokens encrypted at rest with Fernet, several keys for rotation.

``SYNDICATION_TOKEN_KEYS`` holds one or more Fernet keys, newest first: the first
encrypts, all of them decrypt (``MultiFernet``). To rotate, put a new key in front,
run ``manage.py rotate_channel_keys`` and drop the old key afterwards. Without keys
(development only: production refuses to start) one key is derived from ``SECRET_KEY``.
"""

import base64
import json
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class TokenDecryptionError(Exception):
    """Stored tokens could not be decrypted with any configured key."""


def derived_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"storyloom-channel-tokens")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


@cache
def _cipher(keys: tuple[str, ...], secret: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(derived_key(secret))])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "SYNDICATION_TOKEN_KEYS must be Fernet keys (32 url-safe base64 bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.SYNDICATION_TOKEN_KEYS), settings.SECRET_KEY)


def encrypt(data: dict) -> str:
    return cipher().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(cipher().decrypt(token.encode()))
    except InvalidToken as exc:
        raise TokenDecryptionError(
            "Stored channel tokens cannot be decrypted with SYNDICATION_TOKEN_KEYS; "
            "was a key removed before `manage.py rotate_channel_keys` ran?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the first key (it may have been made with an older one)."""
    return cipher().rotate(token.encode()).decode() if token else token
