"""Trust's pure domain: relationship stages and vetting approvals. No I/O here."""

from services.trust.domain.relationship import Relationship, Rules
from services.trust.domain.standing import Standing, approvals

__all__ = ["Relationship", "Rules", "Standing", "approvals"]
