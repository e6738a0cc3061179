"""The collection service the kernel holds: forms and campaigns together."""

from __future__ import annotations

from dataclasses import dataclass

from ..attachments.service import AttachmentService
from ..events import EventBus
from ..residents.service import ResidentService
from .campaigns import CampaignService
from .forms import FormService

__all__ = ["CollectionService"]


@dataclass
class CollectionService:
    forms: FormService
    campaigns: CampaignService

    @classmethod
    def build(
        cls, residents: ResidentService, events: EventBus, attachments: AttachmentService
    ) -> CollectionService:
        forms = FormService()
        return cls(forms, CampaignService(forms, residents, events, attachments))
