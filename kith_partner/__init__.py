"""The Kith partner SDK: send checked events to Kith, read your feed, verify webhooks.

A partner's service uses it like this::

    async with PartnerClient(kafka, partner_id, api_key) as kith:
        await kith.send(PersonReferred(...))
        async for event in kith.feed():
            offer = event.payload_as(OfferMade)

``kafka`` is a bootstrap address, or a ``shared.messaging.KafkaConnection`` with the
partner's own SASL user (SCRAM-SHA-512) and TLS settings. Inbox messages are signed with a
hash of the API key (``shared.contracts.inbox_signature``): the key never travels on Kafka.

Everything is checked against Kith's published contracts (``shared.contracts``) before it
leaves, so a mistake is an exception here rather than a rejection later.
"""

from kith_partner.client import InvalidEvent, PartnerClient
from kith_partner.feed import FeedEvent, IncompleteEvent, read_feed_message
from kith_partner.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "FeedEvent",
    "IncompleteEvent",
    "InvalidEvent",
    "PartnerClient",
    "WebhookVerificationError",
    "read_feed_message",
    "verify_webhook",
]
