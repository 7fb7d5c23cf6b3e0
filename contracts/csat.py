"""Customer satisfaction: a customer's 1–5 rating of a resolved work item, answering the survey sent after it."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from contracts.channels import ChannelKind

RATINGS = range(1, 6)


class CsatRating(BaseModel):
    """One answer to a CSAT survey: the item it rates, the queue that resolved it, and the score."""

    schema_version: Literal[1] = 1
    tenant: str
    work_item_id: str
    queue: str  # the queue that held the item when it was resolved
    channel: ChannelKind  # where the survey went and the answer came from
    customer: str  # the customer's id on that channel
    rating: int = Field(ge=1, le=5)
    message_id: str  # the inbound message that carried the answer (it opens no request)
    surveyed_at: AwareDatetime
    rated_at: AwareDatetime
