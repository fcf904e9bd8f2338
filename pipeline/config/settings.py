"""The one settings object and how it is loaded (keyword arguments, ``DYAD_*`` variables, the
YAML file, defaults)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from pipeline.config.mailing import MailingSettings
from pipeline.config.messages import read_yaml_file, validation_lines
from pipeline.config.sections import (
    SAMPLE_DIR,
    ClusterSettings,
    DetectSettings,
    DigestSettings,
    ExtractSettings,
    FeedSettings,
    HttpSettings,
    LLMSettings,
    Recipient,
    SMTPSettings,
)
from pipeline.config.threads import ThreadSettings
from pipeline.errors import ConfigError

_yaml_path: ContextVar[Path | None] = ContextVar("dyad_yaml_path", default=None)


class Settings(BaseSettings):
    """Everything Dyad can be told. Build with ``load_settings``."""

    model_config = SettingsConfigDict(
        env_prefix="DYAD_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(Path("var"), description="where the SQLite file, WARCs and output go")
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite in data_dir")
    feeds_file: Path = Field(Path("feeds.yaml"), description="the feed list (see feeds.yaml)")
    replay_path: Path | None = Field(None, description="answer every fetch from this WARC")
    record_path: Path | None = Field(None, description="write every HTTP exchange to this WARC")
    sample_dir: Path = Field(SAMPLE_DIR, description="the bundled offline sample's sources")
    retention_days: int = Field(
        0, ge=0, description="dyad purge deletes what is older (tombstones kept); 0 keeps all"
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    threads: ThreadSettings = Field(default_factory=ThreadSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    smtp: SMTPSettings = Field(default_factory=SMTPSettings)
    mailing: MailingSettings = Field(default_factory=MailingSettings)
    recipients: list[Recipient] = Field(
        default_factory=list, description="who gets the digest (see Recipients in docs/settings.md)"
    )

    @field_validator("database_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("database_url must be an SQLAlchemy URL such as sqlite:///var/dyad.db")
        if _in_memory_sqlite(value):
            raise ValueError(
                "an in-memory SQLite database loses everything when the command exits; "
                "use a file such as sqlite:///var/dyad.db (or leave database_url empty)"
            )
        return value

    @model_validator(mode="after")
    def _paths(self) -> Settings:
        if self.replay_path is not None and self.record_path is not None:
            raise ValueError("replay_path and record_path cannot both be set")
        return self

    @model_validator(mode="after")
    def _one_click(self) -> Settings:
        endpoint = self.mailing.unsubscribe_endpoint
        if endpoint and not self.one_click_endpoint:
            raise ValueError(
                f"mailing.unsubscribe_endpoint {endpoint!r} must be an https URL, or a path "
                "under an https digest.site_url (RFC 8058)"
            )
        return self

    @property
    def one_click_endpoint(self) -> str | None:
        """The one-click unsubscribe endpoint (https), resolved against ``digest.site_url``;
        None when none is configured."""
        from urllib.parse import urljoin

        endpoint = self.mailing.unsubscribe_endpoint
        if not endpoint:
            return None
        base = (self.digest.site_url or "").rstrip("/") + "/"
        url = urljoin(base, endpoint.lstrip("/")) if "://" not in endpoint else endpoint
        return url if url.startswith("https://") else None

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the setting, or a SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'dyad.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _yaml_path.get()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from overrides, ``DYAD_*`` variables, the YAML file and defaults.

    ``config_path`` wins over ``DYAD_CONFIG``; without either, ``./dyad.yaml`` is read when it
    exists. Raises ``ConfigError`` naming every invalid field.
    """
    path = config_path or (
        Path(os.environ["DYAD_CONFIG"]) if os.environ.get("DYAD_CONFIG") else None
    )
    if path is None and Path("dyad.yaml").is_file():
        path = Path("dyad.yaml")
    if path is not None and not path.is_file():
        raise ConfigError(f"settings file not found: {path}")
    if path is not None and not isinstance(read_yaml_file(path, "settings file"), dict | None):
        raise ConfigError(f"settings file {path} must be a mapping of setting: value")
    token = _yaml_path.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = f" in {path} or DYAD_* variables" if path else " (DYAD_* variables)"
        lines = "".join(f"\n  {line}" for line in validation_lines(exc))
        raise ConfigError(f"invalid settings{where}:{lines}") from exc
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}", item=str(path) if path else None) from exc
    finally:
        _yaml_path.reset(token)


def _in_memory_sqlite(url: str) -> bool:
    """True for SQLite URLs that name no file: ``sqlite://``, ``sqlite:///:memory:``,
    ``file::memory:`` or ``mode=memory`` (https://www.sqlite.org/inmemorydb.html)."""
    if not url.startswith("sqlite"):
        return False
    database = url.split("://", 1)[1].removeprefix("/")
    name = database.split("?", 1)[0]
    return name in ("", ":memory:") or ":memory:" in name or "mode=memory" in database
