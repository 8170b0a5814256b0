"""The web-push adapter against a stand-in for a browser's push service at the HTTP boundary:
the message is encrypted for the browser that subscribed (it decrypts here with the browser's
keys) and signed with Kith's VAPID key."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from py_vapid import Vapid

from services.notify.adapters.push import WebPush, public_key_of
from services.notify.service_layer.ports import SendFailed
from tests.unit.notify_support import Browser


def kith_key() -> Vapid:
    vapid = Vapid()
    vapid.generate_keys()
    return vapid


async def test_a_push_is_encrypted_for_the_browser_and_signed_with_kiths_key() -> None:
    browser = Browser("https://push.example.test/send/abc")
    vapid = kith_key()
    seen: list[httpx.Request] = []

    def push_service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    push = WebPush(vapid, "mailto:ops@example.org", transport=httpx.MockTransport(push_service))
    await push.send(to=[browser.subscription], title="Your visit is booked", body="Hello", tag="t1")
    await push.close()

    [request] = seen
    assert str(request.url) == "https://push.example.test/send/abc"
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert int(request.headers["TTL"]) > 0
    assert browser.read(request.content) == {
        "title": "Your visit is booked",
        "body": "Hello",
        "tag": "t1",
    }
    scheme, _, params = request.headers["Authorization"].partition(" ")
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert scheme == "vapid"
    assert fields["k"] == public_key_of(vapid)
    claims = verified_claims(fields["t"], vapid.public_key)
    assert claims["aud"] == "https://push.example.test"
    assert claims["sub"] == "mailto:ops@example.org"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verified_claims(token: str, key: ec.EllipticCurvePublicKey) -> dict[str, object]:
    """A VAPID JWT's claims, once its ES256 signature is checked (raises if it is wrong)."""
    header, claims, signature = token.split(".")
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    decoded: dict[str, object] = json.loads(unb64(claims))
    return decoded


async def test_one_device_taking_it_is_enough_and_gone_subscriptions_are_permanent() -> None:
    gone, live = Browser("https://push.example.test/gone"), Browser("https://push.example.test/ok")

    def push_service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(410 if request.url.path == "/gone" else 201)

    push = WebPush(
        kith_key(), "mailto:ops@example.org", transport=httpx.MockTransport(push_service)
    )
    await push.send(to=[gone.subscription, live.subscription], title="t", body="b", tag="x")
    with pytest.raises(SendFailed) as unsubscribed:
        await push.send(to=[gone.subscription], title="t", body="b", tag="x")
    assert unsubscribed.value.permanent
    await push.close()

    busy = WebPush(
        kith_key(),
        "mailto:ops@example.org",
        transport=httpx.MockTransport(lambda _: httpx.Response(503)),
    )
    with pytest.raises(SendFailed) as unavailable:
        await busy.send(to=[live.subscription], title="t", body="b", tag="x")
    assert not unavailable.value.permanent
    assert str(unavailable.value) == "the push service answered 503"
    await busy.close()


def _no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing should reach the push service: {request.url}")


async def test_without_a_vapid_key_no_push_is_tried() -> None:
    browser = Browser("https://push.example.test/x")
    push = WebPush(None, "mailto:ops@example.org", transport=httpx.MockTransport(_no_request))
    with pytest.raises(SendFailed, match="no VAPID key"):
        await push.send(to=[browser.subscription], title="t", body="b", tag="x")
    await push.close()
