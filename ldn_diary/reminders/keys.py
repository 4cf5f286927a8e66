"""VAPID key pairs in the form the settings and browsers take: base64url, no padding; the
public key as an uncompressed P-256 point (the browser's ``applicationServerKey``), the private
key as its raw 32-byte scalar (what ``py_vapid.Vapid.from_string`` reads)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_of(private: ec.EllipticCurvePrivateKey) -> str:
    return _b64(private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def new_pair() -> tuple[str, str]:
    """(public, private), freshly generated."""
    private = ec.generate_private_key(ec.SECP256R1())
    return public_of(private), _b64(private.private_numbers().private_value.to_bytes(32, "big"))


def problem(public: str, private: str) -> str | None:
    """Why this pair cannot sign for that public key, or None."""
    try:
        raw = _unb64(private)
        if len(raw) != 32:
            return "VAPID_PRIVATE_KEY is not a raw 32-byte key in base64url."
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        return "VAPID_PRIVATE_KEY is not a raw 32-byte key in base64url."
    if public_of(key) != public.rstrip("="):
        return "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY."
    return None
