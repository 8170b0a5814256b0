"""What booking and notify agree on about web push: where the development VAPID key lives,
and the public key browsers subscribe with.

Notify signs pushes with the private key; booking gives browsers the public one
(``GET /v1/push/key``). In the development mode notify generates the pair into the state
folder; elsewhere both come from settings.
"""

from __future__ import annotations

from shared.settings import Settings

#: The development VAPID private key (PEM), in the state folder.
PRIVATE_KEY_FILE = "vapid-private.pem"
#: Its public key as browsers take it (base64url of the uncompressed point), beside it.
PUBLIC_KEY_FILE = "vapid-public-key"


def application_server_key(settings: Settings) -> str | None:
    """The public VAPID key: ``vapid_public_key``, or in the development mode the one notify
    generated; ``None`` when there is none (no push is sent)."""
    if settings.vapid_public_key:
        return settings.vapid_public_key
    if not settings.development:
        return None
    path = settings.state_dir / PUBLIC_KEY_FILE
    return path.read_text().strip() if path.exists() else None
