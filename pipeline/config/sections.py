"""The sections of Dyad's settings: one model per stage (http, feeds, extract, detect, cluster,
llm, digest, smtp) and the recipients. Every field is listed in docs/settings.md."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

PACKAGE_DATA = Path(__file__).parent.parent / "data"
SAMPLE_DIR = PACKAGE_DATA / "sample"


class HttpSettings(BaseModel):
    """Limits and manners of the one HTTP client every fetch goes through."""

    connect_timeout: float = Field(10.0, gt=0, le=120, description="seconds to open a connection")
    read_timeout: float = Field(20.0, gt=0, le=300, description="seconds to wait for any bytes")
    deadline: float = Field(30.0, gt=0, le=600, description="whole-request limit, body included")
    feed_max_bytes: int = Field(5 * 2**20, ge=1024, description="feed body cap, decompressed")
    page_max_bytes: int = Field(5 * 2**20, ge=1024, description="page body cap, decompressed")
    robots_max_bytes: int = Field(512 * 1024, ge=1024, description="robots.txt cap")
    max_redirects: int = Field(5, ge=0, le=20, description="redirect hops followed per fetch")
    retries: int = Field(2, ge=0, le=10, description="extra tries on connect errors and 5xx")
    backoff_base: float = Field(0.5, ge=0, le=60, description="first retry delay, seconds")
    backoff_max: float = Field(30.0, ge=0, le=600, description="longest retry delay, seconds")
    per_host_concurrency: int = Field(2, ge=1, le=16, description="requests in flight per host")
    per_host_delay: float = Field(1.0, ge=0, le=60, description="seconds between request starts")
    retry_after_min: float = Field(60.0, ge=0, description="Retry-After clamp, lower bound")
    retry_after_max: float = Field(86400.0, ge=1, description="Retry-After clamp, upper bound")
    user_agent: str = Field(
        "Dyad/0.1 (+{contact_url})",
        description="User-Agent; must name Dyad; {contact_url} filled in",
    )
    contact_url: str = Field(
        "https://github.com/dyad-news/dyad", description="where site owners can reach you"
    )
    allow_private_networks: bool = Field(
        False, description="allow loopback/private targets (tests, intranet feeds)"
    )
    private_allowlist: list[str] = Field(
        default_factory=list,
        description="addresses/networks allowed even though private, e.g. ['10.1.2.0/24']",
    )
    robots_cache_seconds: float = Field(86400.0, ge=0, description="how long robots.txt is cached")
    respect_robots: bool = Field(True, description="honour robots.txt for article pages")

    @field_validator("user_agent")
    @classmethod
    def _user_agent_names_dyad(cls, value: str) -> str:
        if "dyad" not in value.lower() or any(c in value for c in "\r\n"):
            raise ValueError("user_agent must name Dyad and be one line")
        return value

    @field_validator("contact_url")
    @classmethod
    def _contact_is_url(cls, value: str) -> str:
        if not re.match(r"^(https?://|mailto:)\S+$", value):
            raise ValueError("contact_url must be an http(s) or mailto: URL")
        return value

    @field_validator("private_allowlist")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError with the bad entry
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HttpSettings:
        if self.retry_after_min > self.retry_after_max:
            raise ValueError("retry_after_min must not exceed retry_after_max")
        self.read_timeout = min(self.read_timeout, self.deadline)
        return self

    @property
    def user_agent_header(self) -> str:
        """The User-Agent sent on every request, with the contact URL filled in."""
        return self.user_agent.replace("{contact_url}", self.contact_url)


class FeedSettings(BaseModel):
    """How feeds are polled and how much of each one is taken."""

    max_items: int = Field(200, ge=1, le=10000, description="newest items taken per feed per run")
    unconditional_every_hours: float = Field(
        24.0, ge=0, description="drop ETag/Last-Modified once this often (0 = never)"
    )
    failure_backoff_base_minutes: float = Field(
        30.0, ge=0, description="wait after a feed's first failure; doubles each time"
    )
    failure_backoff_max_hours: float = Field(24.0, ge=0, description="longest failure backoff")
    flag_after_failures: int = Field(
        3, ge=1, description="consecutive failures before a feed is shown in red"
    )
    redirect_confirm_count: int = Field(5, ge=1, description="301s seen before suggesting a move")
    shard_size: int = Field(10, ge=1, le=1000, description="feeds per Airflow mapped task")
    poll_workers: int = Field(8, ge=1, le=64, description="threads polling feeds")
    title_max_chars: int = Field(1024, ge=64, description="titles are cut to this length")
    summary_max_chars: int = Field(
        65536, ge=256, description="feed summaries/content are cut to this length"
    )
    parse_timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="parse time limit per feed (parser process killed)"
    )


class ExtractSettings(BaseModel):
    """Article extraction: isolation limits and fallbacks."""

    workers: int = Field(0, ge=0, le=64, description="extraction processes; 0 = one per core")
    fetch_workers: int = Field(8, ge=1, le=64, description="threads fetching article pages")
    wall_seconds: float = Field(
        20.0, gt=0, le=600, description="extraction time limit per page (worker killed)"
    )
    memory_mb: int = Field(1024, ge=128, description="address-space limit per extractor process")
    max_tags: int = Field(200_000, ge=100, description="pages with more '<' than this are refused")
    text_max_chars: int = Field(200_000, ge=1000, description="article text is cut to this length")
    max_attempts: int = Field(
        3, ge=1, description="page fetch attempts before settling on fallback"
    )


class DetectSettings(BaseModel):
    """The two operating points of the learned detection (``pipeline/data/detect_model.json``)."""

    candidate_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="probability from which a pair is sent to the LLM to confirm (None = model's)",
    )
    final_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="probability from which an article is bilateral without an LLM "
        "(None = model's)",
    )


class ClusterSettings(BaseModel):
    """How bilateral articles are grouped into stories."""

    window_hours: float = Field(
        72.0, gt=0, le=24 * 30, description="articles further apart than this are not one story"
    )
    similarity: float = Field(
        0.08,
        gt=0,
        le=1,
        description="mean exact content-word Jaccard to a story's members an article needs to join",
    )
    num_perm: int = Field(900, ge=16, le=2048, description="MinHash permutations")
    lsh_rows: int = Field(
        3, ge=1, le=16, description="rows per LSH band (bands = num_perm / lsh_rows)"
    )
    exact_neighbours: int = Field(
        20,
        ge=0,
        le=10_000,
        description="up to this many earlier articles of the pair in the window, all are compared",
    )
    max_story_articles: int = Field(
        50, ge=1, le=10_000, description="a full story takes no more articles; a new one starts"
    )

    @model_validator(mode="after")
    def _bands(self) -> ClusterSettings:
        if self.num_perm % self.lsh_rows:
            raise ValueError("cluster.num_perm must be a multiple of cluster.lsh_rows")
        return self


# Model-name patterns of models that reason before answering (``llm.reasoning_models``).
REASONING_MODELS: tuple[str, ...] = (
    "o1*",
    "o3*",
    "o4*",
    "gpt-5*",
    "*deepseek-r1*",
    "deepseek-reasoner",
    "*qwq*",
    "*qwen3*",
    "*gpt-oss*",
    "*thinking*",
)


class LLMSettings(BaseModel):
    """The summariser: an OpenAI-compatible endpoint, or the local extractive one."""

    backend: Literal["auto", "openai", "local"] = Field(
        "auto", description="auto = openai when an API key is set, else local"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (None = OpenAI)")
    model: str = Field("gpt-4o-mini", description="model name sent to the endpoint")
    api_key: SecretStr | None = Field(
        None, description="API key; in Airflow the dyad_llm Connection"
    )
    provider: Literal[
        "auto", "openai", "azure", "vllm", "ollama", "llamacpp", "openrouter", "generic"
    ] = Field(
        "auto",
        description="server profile: token-limit parameter, temperature, structured output, "
        "timeout (auto = from base_url)",
    )
    timeout: float | None = Field(
        None, gt=0, le=900, description="seconds per request (None = the profile's: 60 to 300)"
    )
    max_retries: int = Field(2, ge=0, le=10, description="retries on 429 (short), 5xx, timeouts")
    retry_after_max: float = Field(
        20.0, ge=0, le=3600, description="longer Retry-After defers the rest to the next run"
    )
    circuit_after: int = Field(
        3, ge=1, le=100, description="consecutive failed stories that stop LLM calls for the run"
    )
    max_output_tokens: int = Field(1200, ge=100, le=32000, description="reply length limit")
    reasoning_models: list[str] = Field(
        default_factory=lambda: list(REASONING_MODELS),
        description="model-name patterns that reason first: no temperature, "
        "reasoning_output_tokens as the limit",
    )
    reasoning_output_tokens: int = Field(
        8000, ge=100, le=100_000, description="reply limit for reasoning models (thinking counts)"
    )
    temperature: float = Field(0.2, ge=0, le=2, description="sampling temperature")
    input_token_budget: int = Field(
        5000, ge=500, le=200_000, description="story text sent per call, in tokens"
    )
    daily_token_budget: int = Field(
        2_000_000, ge=0, description="input+output tokens per UTC day; 0 = no limit"
    )
    price_input_per_mtok: float = Field(0.15, ge=0, description="USD per million input tokens")
    price_output_per_mtok: float = Field(0.60, ge=0, description="USD per million output tokens")
    structured_output: Literal["auto", "json_schema", "json_object", "prompt"] = Field(
        "auto",
        description="first step of the ladder json_schema -> json_object -> prompt "
        "(auto = the profile's); steps down when the server refuses response_format",
    )
    max_attempts: int = Field(
        3, ge=1, le=20, description="model attempts per story before it is marked failed"
    )
    retry_hours: float = Field(
        6.0, ge=0, le=720, description="hours before a story whose reply was unusable is retried"
    )
    on_no_summary: Literal["fail", "warn"] = Field(
        "fail",
        description="a run where the model produced no summary at all: fail the task (after "
        "storing local summaries) or only warn",
    )

    @field_validator("structured_output", mode="before")
    @classmethod
    def _structured_output(cls, value: object) -> object:
        # Before 0.4 this was a boolean: true = send the schema, false = no response_format.
        if isinstance(value, bool):
            return "auto" if value else "prompt"
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://\S+$", value):
            raise ValueError("base_url must be an http(s) URL")
        return value

    @property
    def uses_openai(self) -> bool:
        """True when summaries go to the OpenAI-compatible endpoint."""
        if self.backend == "openai":
            return True
        return self.backend == "auto" and self.api_key is not None


def _valid_address(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    if any(c in value for c in "\r\n\x00,;<>"):
        raise ValueError(f"invalid email address {value!r}: line breaks and separators refused")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"invalid email address {value!r}: {exc}") from exc


class Recipient(BaseModel):
    """Who gets the digest and which pairs they follow."""

    address: str = Field(description="validated when the settings load")
    name: str | None = None
    follow: list[str] = Field(
        default_factory=lambda: ["*"],
        description='"*" (all pairs), "IN-*" (every pair with India), or "CN-US" (one pair)',
    )
    send_empty: bool = Field(False, description="send a digest even when nothing matches")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _valid_address(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value and any(c in value for c in '\r\n\x00"<>'):
            raise ValueError("recipient name must be one line without quotes or angle brackets")
        return value

    @field_validator("follow")
    @classmethod
    def _follow(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*" and not re.fullmatch(r"[A-Z]{2}-(?:[A-Z]{2}|\*)", item):
                raise ValueError(f"follow entries are '*', 'IN-*' or 'CN-US', not {item!r}")
        return value


class DigestSettings(BaseModel):
    """The morning digest: when, for which window, where it is written."""

    timezone: str = Field("UTC", description="IANA time zone of the send time")
    send_time: str = Field("07:00", description="local time the digest is sent (HH:MM)")
    trend_days: int = Field(30, ge=2, le=365, description="days of history in trend lines")
    max_stories_per_dyad: int = Field(8, ge=1, le=100, description="stories shown per pair")
    max_dyads: int = Field(40, ge=1, le=500, description="pairs shown; the rest are counted")
    site_title: str = Field("Dyad", description="title of the email, feed and archive")
    site_url: str | None = Field(None, description="public URL of the archive (for links)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("send_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not re.fullmatch(r"(?:[01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("send_time must be HH:MM (24-hour)")
        return value


class SMTPSettings(BaseModel):
    """Mail delivery. Without a host, digests are written as .eml files instead."""

    host: str | None = Field(None, description="SMTP server; empty = write .eml files")
    port: int = Field(587, ge=1, le=65535, description="587 STARTTLS, 465 TLS, 25 plain")
    security: Literal["starttls", "tls", "plain"] = Field(
        "starttls", description="starttls (587), tls (implicit, 465) or plain (tests, local relays)"
    )
    username: str | None = Field(None, description="login user; none = no login")
    password: SecretStr | None = Field(None, description="login password (secret)")
    from_address: str = Field("dyad@localhost", description="From: address (validated)")
    from_name: str = Field("Dyad", description="From: display name")
    timeout: float = Field(30.0, gt=0, le=300, description="seconds per SMTP operation")
    retries: int = Field(3, ge=0, le=10, description="retries on 4xx and dropped connections")
    backoff: float = Field(2.0, ge=0, le=300, description="first retry delay, seconds (doubles)")

    @field_validator("from_address")
    @classmethod
    def _from(cls, value: str) -> str:
        if value.endswith("@localhost"):
            return value
        return _valid_address(value)

    @field_validator("from_name")
    @classmethod
    def _from_name(cls, value: str) -> str:
        if any(c in value for c in '\r\n\x00"<>'):
            raise ValueError("from_name must be one line without quotes or angle brackets")
        return value
