"""The ``mailing`` section: how the digest presents itself as a mailing list (List-Id,
List-Unsubscribe, one-click unsubscribe) and where unsubscribe requests go."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from pipeline.config.sections import _valid_address


class MailingSettings(BaseModel):
    """The digest as a list a reader can leave (RFC 2369, RFC 2919, RFC 8058)."""

    list_id: str | None = Field(
        None,
        description="List-Id (RFC 2919), e.g. digest.example.org; "
        "default: <title>-digest.<From: domain>",
    )
    unsubscribe_address: str | None = Field(
        None,
        description="mailto: target of List-Unsubscribe; default smtp.from_address; "
        "dyad unsubscribe --from-mbox reads what arrives there",
    )
    unsubscribe_endpoint: str | None = Field(
        None,
        description="one-click unsubscribe URL (RFC 8058): a path under digest.site_url or an "
        "https URL; needs mailing.unsubscribe_secret",
    )
    unsubscribe_secret: SecretStr | None = Field(
        None, description="key that signs one-click unsubscribe links (secret)"
    )

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
            raise ValueError(f"list_id must look like label.example.org (RFC 2919), not {value!r}")
        return value

    @field_validator("unsubscribe_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _valid_address(value)

    @model_validator(mode="after")
    def _signed(self) -> MailingSettings:
        if self.unsubscribe_endpoint and self.unsubscribe_secret is None:
            raise ValueError("mailing.unsubscribe_endpoint needs mailing.unsubscribe_secret")
        return self
