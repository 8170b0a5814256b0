"""The gateway's pure domain: scopes, admission checks, projections, keys, signing, backoff."""

from services.partners.domain.admission import Refused, admit, recorded_by
from services.partners.domain.backoff import Backoff
from services.partners.domain.partner import Partner, Service
from services.partners.domain.projection import safeguarding_view, standing_view, view_for
from services.partners.domain.scopes import ScopeError, Scopes, grant, reduce

__all__ = [
    "Backoff",
    "Partner",
    "Refused",
    "ScopeError",
    "Scopes",
    "Service",
    "admit",
    "grant",
    "recorded_by",
    "reduce",
    "safeguarding_view",
    "standing_view",
    "view_for",
]
