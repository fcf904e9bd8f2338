"""The ``threads`` section: when a story continues an earlier story of its pair."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ThreadSettings(BaseModel):
    """How stories are linked into threads across days (``pipeline.threads``)."""

    enabled: bool = Field(True, description="link stories to the earlier story they continue")
    days: float = Field(
        14.0,
        gt=0,
        le=90,
        description="an earlier story last reported more than this many days before a story's "
        "first article is not continued by it",
    )
    similarity: float = Field(
        0.10,
        gt=0,
        le=1,
        description="mean content-word Jaccard between the two stories' articles (every pair "
        "of one article from each) from which a story continues an earlier one",
    )
