"""Dyad's requests checked by a real implementation: llama-cpp-python's OpenAI-compatible server.

Opt-in (``make test-llamacpp``): llama-cpp-python builds from source (about 15 minutes on 2 cores),
so it lives in its own environment, named by ``DYAD_LLAMACPP_PYTHON``; without it these tests
skip. The model is a tiny llama-architecture GGUF with random weights that the test writes itself
(``tests/llamacpp/make_tiny_gguf.py``, with the ``gguf`` package); the server compiles the schema
Dyad sends into a grammar, so even random weights give schema-valid JSON. Its vocabulary is bytes,
so a prompt costs a token per character: the server gets a 32k context.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.summarize.openai_chat import OpenAIChat
from pipeline.summarize.prompts import build_messages, new_delimiter
from pipeline.summarize.replies import json_text
from pipeline.summarize.schema import LLMSummary
from tests.conftest import copy_store
from tests.test_llm_servers import SINCE, cli, summaries
from tests.test_summarize import llm_settings, sample_story, summarizer

PYTHON = os.environ.get("DYAD_LLAMACPP_PYTHON")
pytestmark = pytest.mark.skipif(
    not PYTHON, reason="DYAD_LLAMACPP_PYTHON is not set (run `make test-llamacpp`)"
)


class LlamaServer:
    """llama-cpp-python's server on a free loopback port (what FakeLLM offers: base_url)."""

    def __init__(self, model: Path, log: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [str(PYTHON), "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--chat_format", "chatml", "--n_ctx", "32768"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError(f"llama-cpp-python did not start: {log.read_text()[-2000:]}")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    folder = tmp_path_factory.mktemp("llamacpp")
    model = folder / "tiny.gguf"
    script = Path(__file__).parent / "llamacpp" / "make_tiny_gguf.py"
    subprocess.run([str(PYTHON), str(script), str(model)], check=True, timeout=120)
    server = LlamaServer(model, folder / "server.log")
    yield server
    server.close()


def test_json_schema_is_refused_and_the_ladder_steps_to_json_object(
    tmp_path: Path, llama: LlamaServer
) -> None:
    settings = llm_settings(tmp_path, llama, provider="generic", timeout=60)  # type: ignore[arg-type]
    chat = summarizer(settings)
    record = chat.summarize(sample_story())
    assert chat.chat is not None
    # the real server answered 500 "Input should be 'text' or 'json_object'" to json_schema
    assert [e.kind for _, e in chat.state.failures][:1] == ["llm_request_rejected"]
    assert "json_object" in str(chat.state.failures[0][1])
    assert chat.chat.shape.structured == "json_object"
    # and then accepted json_object with the schema: no request after the first failed, and the
    # model's reply was read (a random model's answer: rejected, or refused by our checks)
    assert [e.kind for _, e in chat.state.failures][1:] in ([], ["llm_bad_output"])
    assert record.backend == "openai" or record.error_kind == "llm_bad_output", record.reason


def test_the_llamacpp_profile_gets_schema_valid_json_in_one_request(
    tmp_path: Path, llama: LlamaServer
) -> None:
    settings = llm_settings(tmp_path, llama, provider="llamacpp", timeout=60)  # type: ignore[arg-type]
    chat = OpenAIChat(settings.llm)
    item = sample_story()
    texts = [a.text for a in item.articles]
    messages = build_messages(("IN", "RU"), item.names, item.articles, texts, new_delimiter())
    completion = chat.complete(messages)
    assert chat.failed_requests == [] and completion.finish_reason == "stop"
    LLMSummary.model_validate_json(json_text(completion.text))  # grammar-constrained: valid


@pytest.mark.slow
def test_the_sample_through_dyad_summarize_and_digest(
    tmp_path: Path, llama: LlamaServer, sample_ingested_db: Path
) -> None:
    copy_store(tmp_path, sample_ingested_db)
    result = cli(tmp_path, llama, "summarize", *SINCE, provider="llamacpp", timeout="60")  # type: ignore[arg-type]
    assert result.exit_code in (0, 1), result.output
    records = summaries(tmp_path)
    assert len(records) == 31  # the sample's 28 stories and 3 candidate stories
    # every story ends as the model's answer or a kept summary with its reason: none is lost
    for record in records:
        assert record["backend"] == "openai" or record["error_kind"], record
    digest = cli(tmp_path, llama, "digest", "--date", "2026-11-25", "--days", "30")  # type: ignore[arg-type]
    assert digest.exit_code == 0, digest.output
