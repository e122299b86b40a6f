"""Random tokens and their digests: session cookies, CSRF tokens, API key secrets.

Tokens carry 256 bits from `secrets`; only their SM3 digests are stored, and presented
tokens are compared by digest in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from cryptography.hazmat.primitives import hashes

TOKEN_BYTES: Final = 32


def new_token(nbytes: int = TOKEN_BYTES) -> str:
    """A URL-safe random token of `nbytes` random bytes."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """The SM3 digest of a token, as 64 hex digits: what the database keeps."""
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(token.encode("utf-8"))
    return sm3.finalize().hex()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two texts (tokens or digests)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
