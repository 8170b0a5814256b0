"""The SMS provider adapter against a stand-in for the provider at the HTTP boundary, and
which channels a notice goes on."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from services.notify.adapters.sms import TwilioTexts, e164
from services.notify.domain.notices import Channel
from services.notify.domain.routing import Reach, route
from services.notify.service_layer.ports import SendFailed
from shared.settings import Settings

SETTINGS = Settings(
    sms_api_url="https://sms.example.test",
    sms_account_sid="AC123",
    sms_auth_token=SecretStr("tok"),
    sms_from="+447700900000",
)


def provider(status: int, body: dict[str, object], seen: list[httpx.Request]) -> TwilioTexts:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return TwilioTexts(SETTINGS, transport=httpx.MockTransport(answer))


async def test_a_text_is_posted_as_the_messages_api_documents() -> None:
    seen: list[httpx.Request] = []
    texts = provider(201, {"sid": "SM1", "status": "queued"}, seen)
    await texts.send(to="+44 (0)7700 900-123", text="Your visit is booked")
    await texts.close()

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://sms.example.test/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    form = parse_qs(request.content.decode())
    assert form == {
        "To": ["+4407700900123"],
        "From": ["+447700900000"],
        "Body": ["Your visit is booked"],
    }


async def test_a_number_refused_is_for_good_and_a_busy_provider_is_tried_again() -> None:
    seen: list[httpx.Request] = []
    refused = provider(400, {"code": 21211, "message": "The 'To' number 12 is not valid"}, seen)
    with pytest.raises(SendFailed) as bad_number:
        await refused.send(to="12", text="hello")
    assert bad_number.value.permanent
    # The provider's code, never its message (which repeats the number).
    assert str(bad_number.value) == "the provider answered 400 (21211)"

    busy = provider(429, {"code": 20429}, seen)
    with pytest.raises(SendFailed) as too_many:
        await busy.send(to="+447700900123", text="hello")
    assert not too_many.value.permanent
    await refused.close()
    await busy.close()


async def test_no_provider_set_fails_without_asking_anyone() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    texts = TwilioTexts(Settings(), transport=httpx.MockTransport(answer))
    with pytest.raises(SendFailed, match="no SMS provider"):
        await texts.send(to="+447700900123", text="hello")
    assert seen == []
    await texts.close()


def test_numbers_as_people_write_them_become_e164() -> None:
    assert e164("+44 20 7946 0000") == "+442079460000"
    assert e164("07700 900123") == "07700900123"


EMAIL_AND_PHONE = Reach(email=True, phone=True)
PHONE_ONLY = Reach(email=False, phone=True)


def test_email_by_default_text_for_a_phone_only_and_nothing_for_nobody() -> None:
    assert route(None, EMAIL_AND_PHONE, safety=False).channels == [Channel.EMAIL]
    assert route(None, PHONE_ONLY, safety=False).channels == [Channel.SMS]
    # Someone who chose email but gave only a phone is still told, by text.
    assert route(["email"], PHONE_ONLY, safety=False).channels == [Channel.SMS]
    nobody = route(None, Reach(email=False, phone=False), safety=True)
    assert (nobody.channels, nobody.none_because) == ([], "unreachable")


def test_chosen_channels_are_honoured_and_only_safety_ignores_off() -> None:
    assert route(["sms", "email"], EMAIL_AND_PHONE, safety=False).channels == [
        Channel.SMS,
        Channel.EMAIL,
    ]
    assert route([], EMAIL_AND_PHONE, safety=False).none_because == "off"
    assert route([], EMAIL_AND_PHONE, safety=True).channels == [Channel.EMAIL]
