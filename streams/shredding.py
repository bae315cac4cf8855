"""Crypto-shredding of message fields: personal values sealed with their subject's key (ADR 20).

`Shredder.seal(message)` replaces each personal field (`schemas.personal.PERSONAL`) by
`enc:v1:<key id>:<base64url(nonce + AES-256-GCM ciphertext)>`, element-wise for tuples;
`Shredder.open(message)` reverses it. A value whose key was erased opens as
`schemas.personal.ERASED`; a plaintext value (logs written before ADR 20, or empty) passes
through. A sealed value that is malformed or does not authenticate raises `SealError`
naming the field (the serde turns it into a `DecodeError`: the record is dead-lettered).

Nonces are derived (HMAC of the event id, field and plaintext under a nonce key derived
from the data key), so encoding the same message twice gives the same bytes, as replay
demands, and two different plaintexts never share a nonce under one key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import replace
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from processors.customers import lookup_number
from schemas.envelope import Message
from schemas.personal import ERASED, PERSONAL, subject_of
from streams.keyvault import KeyVault

__all__ = ["PREFIX", "SealError", "Shredder"]

PREFIX = "enc:v1:"
_NONCE = 12


class SealError(ValueError):
    """A sealed value that cannot be opened for a reason other than an erased key."""


class _Cipher:
    __slots__ = ("aead", "nonce_key")

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)
        self.nonce_key = hmac.new(key, b"ccx-nonce-v1", hashlib.sha256).digest()


class Shredder:
    """Seals and opens the personal fields of messages with the keys of `vault`. `region`
    names the country national ANIs belong to, so "030 123" and "+4930123" share a key."""

    def __init__(self, vault: KeyVault, region: str = "") -> None:
        self.vault = vault
        self._ciphers: dict[bytes, _Cipher] = {}
        self._phone = lru_cache(maxsize=65_536)(lambda text: lookup_number(text, region))

    def _cipher(self, key: bytes) -> _Cipher:
        c = self._ciphers.get(key)
        if c is None:
            if len(self._ciphers) >= 100_000:
                self._ciphers.clear()
            c = self._ciphers[key] = _Cipher(key)
        return c

    def seal(self, message: Message[Any]) -> Message[Any]:
        rules = PERSONAL.get(message.type)
        if not rules:
            return message
        body, env = message.body, message.envelope
        subjects = [subject_of(r.kind, env.tenant, str(getattr(body, r.by)), self._phone) for r in rules]
        keys = self.vault.keys_for(s for s in subjects if s)
        changes: dict[str, Any] = {}
        for rule, subject in zip(rules, subjects, strict=True):
            if not subject:
                continue
            key_id, key = keys[subject]
            cipher = self._cipher(key)
            for name in rule.fields:
                value = getattr(body, name)
                seal = _sealer(cipher, key_id, f"{env.event_id}/{name}")
                changes[name] = tuple(seal(v) for v in value) if isinstance(value, tuple) else seal(value)
        return Message(env, replace(body, **changes))

    def open(self, message: Message[Any]) -> Message[Any]:
        rules = PERSONAL.get(message.type)
        if not rules:
            return message
        body = message.body
        changes: dict[str, Any] = {}
        for rule in rules:
            for name in rule.fields:
                value = getattr(body, name)
                if isinstance(value, tuple):
                    if any(isinstance(v, str) and v.startswith(PREFIX) for v in value):
                        changes[name] = tuple(self._open(v, name, i) for i, v in enumerate(value))
                elif isinstance(value, str) and value.startswith(PREFIX):
                    changes[name] = self._open(value, name)
        return Message(message.envelope, replace(body, **changes)) if changes else message

    def _open(self, value: str, name: str, index: int | None = None) -> str:
        if not value.startswith(PREFIX):
            return value
        where = name if index is None else f"{name}[{index}]"
        key_id, sep, text = value[len(PREFIX) :].partition(":")
        if not sep or not key_id:
            raise SealError(f"{where}: sealed value without a key id")
        try:
            blob = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise SealError(f"{where}: sealed value is not base64 (key {key_id})") from None
        if len(blob) < _NONCE + 16:
            raise SealError(f"{where}: sealed value too short ({len(blob)} bytes, key {key_id})")
        key = self.vault.key(key_id)
        if key is None:
            return ERASED
        try:
            plain = self._cipher(key).aead.decrypt(blob[:_NONCE], blob[_NONCE:], None)
        except InvalidTag:
            raise SealError(f"{where}: sealed value does not authenticate with key {key_id}") from None
        return plain.decode("utf-8")


def _sealer(cipher: _Cipher, key_id: str, context: str) -> Any:
    def seal(value: str) -> str:
        if not value or value == ERASED or value.startswith(PREFIX):
            return value
        data = value.encode("utf-8")
        nonce = hmac.new(cipher.nonce_key, context.encode() + b"\0" + data, hashlib.sha256).digest()[:_NONCE]
        blob = nonce + cipher.aead.encrypt(nonce, data, None)
        return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(blob).decode('ascii')}"

    return seal
