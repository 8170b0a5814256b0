"""Web push (RFC 8030) with VAPID (RFC 8292): each message encrypted for the browser that
subscribed (RFC 8291, ``aes128gcm``) by pywebpush, signed with Kith's VAPID key by py-vapid,
and posted to the subscription's endpoint with httpx.

pywebpush's own senders use requests or aiohttp; building the request with it and posting
it with httpx keeps notify on one HTTP client, and lets tests stand in for the push service
at the HTTP boundary (an httpx transport).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPusher

from services.notify.service_layer.ports import PushSubscription, SendFailed
from shared.push import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE
from shared.settings import Settings

_TIMEOUT_S = 15.0
#: How long a push service keeps a message for a device that is offline (a day: after that a
#: reminder is no use, and the email or text has long arrived).
_TTL_S = 24 * 3600


def public_key_of(vapid: Vapid) -> str:
    """The application server key browsers subscribe with: the raw public point, base64url."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_key(settings: Settings) -> Vapid | None:
    """Kith's VAPID key: ``vapid_private_key`` (PEM) when set; in the development mode one
    generated into the state folder (with its public key beside it, for the web app);
    ``None`` otherwise (no push is sent)."""
    if settings.vapid_private_key is not None:
        return Vapid.from_pem(settings.vapid_private_key.get_secret_value().encode())
    if not settings.development:
        return None
    folder = settings.state_dir
    folder.mkdir(parents=True, exist_ok=True)
    private = folder / PRIVATE_KEY_FILE
    if not private.exists():
        _generate(private)
    vapid = Vapid.from_file(str(private))
    public = folder / PUBLIC_KEY_FILE
    if not public.exists():
        public.write_text(public_key_of(vapid) + "\n")
    return vapid


def _generate(path: Path) -> None:
    vapid = Vapid()
    vapid.generate_keys()
    try:
        # O_EXCL: two processes starting together must not each write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as file:
        file.write(vapid.private_pem())


class WebPush:
    """``PushMessages`` to the push services browsers subscribed with.

    Args:
        vapid: Kith's VAPID key, or ``None``: every push then fails (and after its retries
            becomes an operator's task) rather than notify refusing to start.
        subject: The VAPID ``sub`` claim: how a push service reaches Kith's operators.
        transport: httpx's transport; tests pass one that stands in for the push service.
    """

    def __init__(
        self,
        vapid: Vapid | None,
        subject: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._vapid = vapid
        self._subject = subject
        self._client = httpx.AsyncClient(timeout=_TIMEOUT_S, transport=transport)

    async def send(
        self, *, to: Sequence[PushSubscription], title: str, body: str, tag: str
    ) -> None:
        if self._vapid is None:
            raise SendFailed("no VAPID key is set (KITH_VAPID_PRIVATE_KEY)")
        payload = json.dumps({"title": title, "body": body, "tag": tag}).encode()
        accepted, refusals = 0, []
        for subscription in to:
            try:
                status = await self._post(subscription, payload)
            except httpx.HTTPError as error:
                refusals.append((type(error).__name__, False))
                continue
            if status in (200, 201, 202):
                accepted += 1
            else:
                # 404 and 410: the browser unsubscribed; the subscription will never work.
                refusals.append((f"the push service answered {status}", status in (404, 410)))
        if accepted:
            return  # one of the person's devices has it
        if not refusals:
            raise SendFailed("no push subscription", permanent=True)
        reason = "; ".join(sorted({text for text, _ in refusals}))
        raise SendFailed(reason, permanent=all(gone for _, gone in refusals))

    async def _post(self, subscription: PushSubscription, payload: bytes) -> int:
        assert self._vapid is not None
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        encrypted = WebPusher(info).encode(payload, content_encoding="aes128gcm")
        endpoint = urlsplit(subscription.endpoint)
        # The claims' expiry is py-vapid's, from real time: the push service checks it against
        # its own clock, never Kith's movable one.
        headers = self._vapid.sign(
            {"sub": self._subject, "aud": f"{endpoint.scheme}://{endpoint.netloc}"}
        )
        headers.update({"Content-Encoding": "aes128gcm", "TTL": str(_TTL_S), "Urgency": "normal"})
        response = await self._client.post(
            subscription.endpoint, content=encrypted["body"], headers=headers
        )
        return response.status_code

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
