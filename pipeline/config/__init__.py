"""Dyad's one settings object.

Sources, highest priority first: keyword arguments (the CLI and the DAG layer), ``DYAD_*``
environment variables (nested with ``__``, e.g. ``DYAD_HTTP__DEADLINE=20``), the YAML file
(``dyad.yaml`` in the working directory, or the path in ``DYAD_CONFIG`` / ``--config``), then the
typed defaults below. Settings are built once at the edge (``load_settings``) and passed down; no
stage reads the environment. Every field is listed in docs/settings.md.

``sections`` holds one model per stage, ``settings`` the ``Settings`` object and
``load_settings``, ``threads`` the linking of stories across days, ``connections`` the mapping
of Airflow Connection fields onto them.
"""

from pipeline.config.connections import LLM_CONNECTION_EXTRA, with_connections
from pipeline.config.mailing import MailingSettings
from pipeline.config.messages import read_yaml_file, validation_lines
from pipeline.config.sections import (
    PACKAGE_DATA,
    REASONING_MODELS,
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
from pipeline.config.settings import Settings, load_settings
from pipeline.config.threads import ThreadSettings

__all__ = [
    "LLM_CONNECTION_EXTRA",
    "PACKAGE_DATA",
    "REASONING_MODELS",
    "SAMPLE_DIR",
    "ClusterSettings",
    "DetectSettings",
    "DigestSettings",
    "ExtractSettings",
    "FeedSettings",
    "HttpSettings",
    "LLMSettings",
    "MailingSettings",
    "Recipient",
    "SMTPSettings",
    "Settings",
    "ThreadSettings",
    "load_settings",
    "read_yaml_file",
    "validation_lines",
    "with_connections",
]
