"""Text messages through an HTTP SMS provider: Twilio's Messages API
(``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, HTTP basic authentication with the
account SID and auth token, a form with ``To``, ``From`` and ``Body``; 201 when accepted).

The development inbox of ``kith up`` answers the same request, so the same adapter sends to
it in development; another provider is another class with the same ``send``.
"""

from __future__ import annotations

import httpx

from services.notify.service_layer.ports import SendFailed
from shared.settings import Settings

#: A provider that has not answered in this long is taken as down; the notice is retried.
_TIMEOUT_S = 15.0


def e164(phone: str) -> str:
    """A phone number as providers take it: a leading ``+`` and digits only (spaces,
    dashes and brackets as people write them are dropped)."""
    digits = "".join(character for character in phone if character.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


class TwilioTexts:
    """``TextMessages`` through Twilio's Messages API, or anything that speaks it.

    Args:
        settings: ``sms_api_url``, ``sms_account_sid``, ``sms_auth_token`` and ``sms_from``.
        transport: httpx's transport; tests pass a ``MockTransport``.
    """

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._account = settings.sms_account_sid
        self._from = settings.sms_from
        token = settings.sms_auth_token.get_secret_value() if settings.sms_auth_token else ""
        self._client = httpx.AsyncClient(
            base_url=settings.sms_api_url,
            auth=(self._account or "", token),
            timeout=_TIMEOUT_S,
            transport=transport,
        )

    async def send(self, *, to: str, text: str) -> None:
        if not self._account or not self._from:
            # Unset, every text fails (and, after its retries, becomes an operator's task)
            # rather than notify refusing to start: email still works.
            raise SendFailed("no SMS provider is set (KITH_SMS_ACCOUNT_SID, KITH_SMS_FROM)")
        # A Messaging Service (MG...) picks the sending number itself.
        sender = "MessagingServiceSid" if self._from.startswith("MG") else "From"
        try:
            response = await self._client.post(
                f"/2010-04-01/Accounts/{self._account}/Messages.json",
                data={"To": e164(to), sender: self._from, "Body": text},
            )
        except httpx.HTTPError as error:
            raise SendFailed(type(error).__name__) from None
        if response.status_code in (200, 201):
            return
        # The provider's code only: its message may repeat the number.
        code = _error_code(response)
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        raise SendFailed(
            f"the provider answered {response.status_code} ({code})", permanent=permanent
        )

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "no code"
    code = body.get("code") if isinstance(body, dict) else None
    return str(code) if code is not None else "no code"
