"""Safe, polite HTTP for every fetch in Dyad (see ``client`` for the rules it enforces)."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.http.client import HostGate, HttpClient, parse_retry_after
from pipeline.http.exchange import Exchange, Exchanger, LiveExchanger
from pipeline.http.warc import RecordingExchanger, ReplayExchanger

__all__ = [
    "Exchange",
    "Exchanger",
    "HostGate",
    "HttpClient",
    "LiveExchanger",
    "RecordingExchanger",
    "ReplayExchanger",
    "build_client",
    "parse_retry_after",
]


def build_client(settings: Settings) -> HttpClient:
    """The client the settings ask for: live, recording to ``record_path``, or replaying
    ``replay_path`` with no network."""
    exchanger: Exchanger
    if settings.replay_path is not None:
        exchanger = ReplayExchanger(settings.replay_path)
    elif settings.record_path is not None:
        exchanger = RecordingExchanger(LiveExchanger(settings.http), settings.record_path)
    else:
        exchanger = LiveExchanger(settings.http)
    return HttpClient(settings.http, exchanger)
