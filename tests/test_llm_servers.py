"""Real LLM servers' replies: every answer ends as a summary or a visible reason, never a lost story.

The reading and the request rules are tested as pure functions first; then each documented server
behaviour (``tests/llm_server.py`` cites where each is documented) is served on loopback and run
end to end through ``dyad summarize`` and ``dyad digest`` on the offline sample.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import LLMBadResponse, LLMEmptyReply, LLMRefused
from pipeline.store.db import open_engine
from pipeline.summarize import SummaryStatus
from pipeline.summarize.prompts import EXAMPLE
from pipeline.summarize.providers import (
    PROFILES,
    RequestShape,
    adapt_to_error,
    detect_provider,
    initial_shape,
    is_reasoning_model,
    output_token_limit,
    profile_name,
    request_timeout,
    uses_reasoning_model,
)
from pipeline.summarize.replies import json_text, read_completion
from pipeline.summarize.schema import FROM_MODEL, LLMSummary, response_schema
from pipeline.summarize.validation import story_problems
from tests.conftest import copy_store
from tests.llm_server import FakeLLM, summary_from_request
from tests.test_summarize import llm_settings, sample_story, summarizer

# ---------------------------------------------------------------- reading replies (pure)

OBJECT = {"a": 1, "b": {"c": [1, 2]}}


@pytest.mark.parametrize(
    "reply",
    [
        json.dumps(OBJECT),
        "```json\n" + json.dumps(OBJECT, indent=2) + "\n```",
        "```\n" + json.dumps(OBJECT) + "\n```\n",
        "<think>\nI need {braces} here.\n</think>\n\n" + json.dumps(OBJECT),
        "<thinking>plan</thinking>```json\n" + json.dumps(OBJECT) + "\n```",
        "Okay, reasoning without an opening tag.\n</think>\n" + json.dumps(OBJECT),
        "Here is the summary you asked for: " + json.dumps(OBJECT) + " Hope it helps {:)}",
    ],
)
def test_the_json_object_is_found_in_what_real_models_send(reply: str) -> None:
    assert json.loads(json_text(reply)) == OBJECT


def test_text_without_an_object_is_returned_for_the_parser_to_name() -> None:
    assert json_text("no JSON here") == "no JSON here"


def test_a_completion_body_that_is_not_a_completion_is_a_named_error() -> None:
    with pytest.raises(LLMBadResponse, match="text/html"):
        read_completion("<!doctype html><html>Welcome</html>", "text/html; charset=utf-8")
    with pytest.raises(LLMEmptyReply, match="no choices"):
        read_completion(json.dumps({"choices": []}))
    with pytest.raises(LLMEmptyReply, match="no choices"):
        read_completion(json.dumps({"id": "x"}))
    refusal = {"choices": [{"message": {"content": None, "refusal": "I can't help with that."}}]}
    with pytest.raises(LLMRefused, match="I can't help with that"):
        read_completion(json.dumps(refusal))
    with pytest.raises(LLMBadResponse, match="overloaded"):
        read_completion(json.dumps({"error": {"message": "overloaded"}}))


def test_a_completion_keeps_its_text_finish_and_usage() -> None:
    body = {
        "choices": [
            {
                "finish_reason": "length",
                "message": {"content": "{", "reasoning_content": "long thoughts"},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    completion = read_completion(json.dumps(body))
    assert (completion.text, completion.finish_reason) == ("{", "length")
    assert (completion.input_tokens, completion.output_tokens) == (10, 5)


# ---------------------------------------------------------------- request rules (pure)


def test_profiles_follow_the_providers_documentation() -> None:
    assert detect_provider(None) == "openai"
    assert detect_provider("https://api.openai.com/v1") == "openai"
    assert detect_provider("https://myres.openai.azure.com/openai/v1/") == "azure"
    assert detect_provider("https://openrouter.ai/api/v1") == "openrouter"
    assert detect_provider("http://127.0.0.1:11434/v1") == "ollama"
    assert detect_provider("http://127.0.0.1:8000/v1") == "generic"
    openai = initial_shape(PROFILES["openai"], reasoning=False, structured="auto")
    assert (openai.limit_param, openai.temperature, openai.structured) == (
        "max_completion_tokens",
        True,
        "json_schema",
    )
    reasoning = initial_shape(PROFILES["openai"], reasoning=True, structured="auto")
    assert not reasoning.temperature
    llamacpp = initial_shape(PROFILES["llamacpp"], reasoning=False, structured="auto")
    assert (llamacpp.structured, llamacpp.schema_in_json_object) == ("json_object", True)
    forced = initial_shape(PROFILES["openai"], reasoning=False, structured="prompt")
    assert forced.structured == "prompt"


def test_reasoning_models_are_known_by_name() -> None:
    from pipeline.config import REASONING_MODELS

    for name in ("o3-mini", "o1", "gpt-5-mini", "deepseek-r1:8b", "openai/o4-mini", "qwen3:4b"):
        assert is_reasoning_model(name, REASONING_MODELS), name
    for name in ("gpt-4o-mini", "llama3.1:8b", "mistral-small"):
        assert not is_reasoning_model(name, REASONING_MODELS), name


def test_errors_that_name_a_parameter_change_the_request() -> None:
    start = RequestShape("json_schema", "max_tokens", True, True)
    max_tokens = (
        "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead."
    )
    after = adapt_to_error(start, 400, max_tokens)
    assert after is not None and after.limit_param == "max_completion_tokens"
    temperature = "Unsupported value: 'temperature' does not support 0.2 with this model."
    after = adapt_to_error(start, 400, temperature)
    assert after is not None and not after.temperature
    llamacpp = "response_format.type Input should be 'text' or 'json_object'"
    after = adapt_to_error(start, 500, llamacpp)
    assert after is not None and after.structured == "json_object"
    openai = "Invalid parameter: 'response_format' of type 'json_schema' is not supported"
    after = adapt_to_error(start, 400, openai)
    assert after is not None and after.structured == "json_object"
    bottom = RequestShape("prompt", "max_tokens", True, False)
    assert adapt_to_error(bottom, 400, openai) is None
    assert adapt_to_error(start, 400, "context length exceeded") is None
    assert adapt_to_error(start, 401, temperature) is None


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


# OpenAI structured outputs, "Supported schemas": the keywords strict mode accepts.
STRICT_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "anyOf", "$ref",
    "$defs", "description", "const", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
}  # fmt: skip


def test_the_sent_schema_follows_openai_strict_mode_rules() -> None:
    schema = response_schema()
    for node in _objects(schema):
        assert node.get("additionalProperties") is False
        assert set(node["required"]) == set(node["properties"])

    def keys(node: Any, in_properties: bool = False) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                if not in_properties:
                    yield k
                yield from keys(v, k in ("properties", "$defs") and not in_properties)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    assert set(keys(schema)) <= STRICT_KEYWORDS
    score = schema["properties"]["cooperation_score"]
    assert (score["minimum"], score["maximum"]) == (-10, 10)
    assert schema["properties"]["key_points"]["maxItems"] == 5


def test_the_prompt_example_is_a_valid_reply_and_names_every_field() -> None:
    from pipeline.summarize.prompts import SYSTEM

    LLMSummary.model_validate(EXAMPLE)
    for field in LLMSummary.model_fields:
        assert field in SYSTEM, field


def test_replies_that_say_nothing_or_the_wrong_pair_are_refused() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Country pair: India (IN) and Russia (RU)."},
        ]
    }
    good = summary_from_request(body) | {
        "headline": "India and Russia sign an energy accord",
        "summary": "India and Russia signed an energy accord in Moscow on Tuesday, officials said.",
        "key_points": [{"text": "The accord covers oil deliveries.", "cites": [1]}],
    }
    LLMSummary.model_validate(good, context=FROM_MODEL)
    with pytest.raises(ValueError, match="headline"):
        LLMSummary.model_validate(good | {"headline": ""}, context=FROM_MODEL)
    with pytest.raises(ValueError, match="repeats the summary"):
        LLMSummary.model_validate(
            good | {"key_points": [{"text": good["summary"], "cites": [1]}]}, context=FROM_MODEL
        )
    LLMSummary.model_validate(good | {"headline": ""})  # stored and local summaries: unchecked
    wrong = LLMSummary.model_validate(good | {"actor_country": "US", "target_country": "CN"})
    problems = story_problems(wrong, "IN-RU", frozenset({"IN", "RU", "US", "CN"}))
    assert len(problems) == 2 and "'US' is not one of the pair" in problems[0]
    third = LLMSummary.model_validate(
        good | {"third_party_reactions": [{"country": "XX", "stance": "neutral", "evidence": "-"}]}
    )
    assert story_problems(third, "IN-RU", frozenset({"IN", "RU"}))


# ---------------------------------------------------------------- one story, each server


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


@pytest.mark.parametrize("behaviour", ["fenced", "think"])
def test_fenced_and_reasoning_replies_are_summaries_in_one_call(
    tmp_path: Path, llm: FakeLLM, behaviour: str
) -> None:
    llm.default = behaviour
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and len(llm.requests) == 1


def test_openai_reasoning_models_get_their_parameters(tmp_path: Path) -> None:
    server = FakeLLM(rules=("openai-reasoning",))
    try:
        # the openai profile knows: one request, max_completion_tokens, no temperature
        settings = llm_settings(tmp_path, server, model="o3-mini", provider="openai")
        record = summarizer(settings).summarize(sample_story())
        assert record.status == SummaryStatus.VERIFIED and len(server.requests) == 1
        sent = server.requests[0]
        assert "temperature" not in sent and "max_tokens" not in sent
        assert sent["max_completion_tokens"] == settings.llm.reasoning_output_tokens
        # a generic endpoint serving such a model: the 400 names the parameter; sent again
        server.requests.clear()
        settings = llm_settings(
            tmp_path, server, model="o3-mini", provider="generic", reasoning_models=[]
        )
        chat = summarizer(settings)
        record = chat.summarize(sample_story())
        assert record.status == SummaryStatus.VERIFIED
        assert [("max_tokens" in r, "temperature" in r) for r in server.requests] == [
            (True, True),
            (False, True),
            (False, False),
        ]
        assert chat.chat is not None and len(chat.chat.shape_changes) == 2
        assert [e.kind for _, e in chat.state.failures] == ["llm_request_rejected"] * 2
    finally:
        server.close()


@pytest.mark.parametrize("rule", ["no-json-schema", "json-schema-400"])
def test_a_server_without_json_schema_gets_json_object_with_the_schema(
    tmp_path: Path, rule: str
) -> None:
    server = FakeLLM(rules=(rule,))
    try:
        record = summarizer(llm_settings(tmp_path, server, max_retries=0)).summarize(sample_story())
        assert record.status == SummaryStatus.VERIFIED and len(server.requests) == 2
        first, second = server.requests
        assert first["response_format"]["type"] == "json_schema"
        assert second["response_format"]["type"] == "json_object"
        assert second["response_format"]["schema"]["properties"]["headline"]
        assert '"cooperation_score"' in second["messages"][0]["content"]  # schema in the prompt
    finally:
        server.close()


def test_the_prompt_step_names_every_field_and_shows_an_example(
    tmp_path: Path, llm: FakeLLM
) -> None:
    settings = llm_settings(tmp_path, llm, structured_output=False)  # the old boolean
    assert settings.llm.structured_output == "prompt"
    summarizer(settings).summarize(sample_story())
    sent = llm.requests[0]
    assert "response_format" not in sent
    assert "An example of the shape" in sent["messages"][0]["content"]


def test_a_truncated_reply_is_asked_again_differently(tmp_path: Path, llm: FakeLLM) -> None:
    llm.script("truncated")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and len(llm.requests) == 2
    assert llm.requests[1]["max_tokens"] == 2 * llm.requests[0]["max_tokens"]
    llm.default = "truncated"
    llm.requests.clear()
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.error_kind == "llm_truncated" and record.summary is not None
    bodies = [json.dumps(r, sort_keys=True) for r in llm.requests]
    assert len(set(bodies)) == len(bodies) <= 4  # never a byte-identical request


def test_a_context_length_refusal_is_sent_again_with_less_input(
    tmp_path: Path, llm: FakeLLM
) -> None:
    llm.script("context-400")
    settings = llm_settings(tmp_path, llm, input_token_budget=500)
    record = summarizer(settings).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and len(llm.requests) == 2
    first, second = (len(r["messages"][1]["content"]) for r in llm.requests)
    assert second < first


@pytest.mark.parametrize(
    "behaviour, kind, counts",
    [
        ("refusal", "llm_refused", True),
        ("empty-choices", "llm_empty_reply", True),
        ("blank", "llm_bad_output", True),
        ("wrong-pair", "llm_bad_output", True),
        ("html200", "llm_bad_response", False),
        ("401", "llm_auth", False),
    ],
)
def test_an_unusable_reply_keeps_a_summary_and_says_why(
    tmp_path: Path, llm: FakeLLM, behaviour: str, kind: str, counts: bool
) -> None:
    llm.default = behaviour
    chat = summarizer(llm_settings(tmp_path, llm))
    record = chat.summarize(sample_story())
    assert record.status == SummaryStatus.LOCAL and record.summary is not None
    assert record.error_kind == kind and kind in (record.reason or "")
    assert record.attempts == (1 if counts else 0)
    assert record.usage.calls == len(llm.requests)  # failed requests are counted
    assert {e.kind for _, e in chat.state.failures} <= {kind, "llm_bad_output"}
    if behaviour == "refusal":
        assert "I'm sorry, I can't assist" in (record.reason or "")


def test_a_previous_model_summary_of_the_same_story_is_kept(tmp_path: Path, llm: FakeLLM) -> None:
    chat = summarizer(llm_settings(tmp_path, llm))
    first = chat.summarize(sample_story())
    llm.default = "refusal"
    again = chat.summarize(sample_story(), previous=first.model_dump(mode="json"))
    assert again.status == SummaryStatus.VERIFIED and again.summary == first.summary
    assert again.error_kind == "llm_refused" and "previous summary kept" in (again.reason or "")


# ---------------------------------------------------------------- end to end on the sample

SINCE = ["--since", "2026-01-01", "--until", "2027-01-01"]
# A window from before the sample's first story (2 November 2026) to tomorrow: the sample's stories
# and this run's LLM failures, recorded now, both fall in it.
TOMORROW = date.today() + timedelta(days=1)
DIGEST = [
    "digest",
    "--date",
    TOMORROW.isoformat(),
    "--days",
    str((TOMORROW - date(2026, 10, 30)).days),
    "--format",
    "json,md",
]
SAMPLE_PAIRS = 23  # the sample's bilateral pairs at the final threshold (tests/test_digest.py)
SAMPLE_STORIES = 28  # their stories: four pairs have a follow-up, Mexico-US two more stories
MODEL_STORIES = 31  # with a model, 3 candidate stories are confirmed too (tests/test_summarize.py)


def cli(tmp_path: Path, server: FakeLLM, *args: str, **llm: str) -> Any:
    env = {
        "DYAD_DATA_DIR": str(tmp_path / "var"),
        "DYAD_LLM__BACKEND": "openai",
        "DYAD_LLM__BASE_URL": server.base_url,
        "DYAD_LLM__API_KEY": "sk-test",
        "DYAD_LLM__TIMEOUT": "2",
        "DYAD_LLM__MAX_RETRIES": "0",
        **{f"DYAD_LLM__{k.upper()}": v for k, v in llm.items()},
    }
    return CliRunner().invoke(app, list(args), env=env)


def summaries(tmp_path: Path) -> list[dict[str, Any]]:
    engine = open_engine(f"sqlite:///{tmp_path / 'var' / 'dyad.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("select record from summaries")).scalars().all()
    engine.dispose()
    return [json.loads(r) if isinstance(r, str) else r for r in rows]


def digest(tmp_path: Path, server: FakeLLM) -> tuple[dict[str, Any], str]:
    result = cli(tmp_path, server, *DIGEST)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "var" / "digests" / TOMORROW.isoformat()
    record = json.loads(next(folder.glob("*.json")).read_text())
    return record, next(folder.glob("*.md")).read_text()


SERVED = {
    "fenced": ("fenced", (), {}),
    "think": ("think", (), {}),
    "reasoning-model rules": ("ok", ("openai-reasoning",), {"model": "gpt-5-mini"}),
    "no json_schema (500)": ("ok", ("no-json-schema",), {}),
    "no json_schema (400)": ("ok", ("json-schema-400",), {}),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SERVED))
def test_model_served_modes_summarise_every_story(
    tmp_path: Path, sample_ingested_db: Path, mode: str
) -> None:
    behaviour, rules, llm = SERVED[mode]
    copy_store(tmp_path, sample_ingested_db)
    server = FakeLLM(default=behaviour, rules=rules)
    try:
        result = cli(tmp_path, server, "summarize", *SINCE, **llm)
        assert result.exit_code == 0, result.output
        records = summaries(tmp_path)
        assert len(records) == MODEL_STORIES
        assert {r["status"] for r in records} == {"verified"}
        record, _ = digest(tmp_path, server)
        assert len(record["dyads"]) >= SAMPLE_PAIRS
        if rules:  # the shape learned is remembered and shown
            status = cli(tmp_path, server, "status")
            assert "LLM request shapes learned" in status.output, status.output
            before = len(server.requests)
            server.requests.clear()
            assert cli(tmp_path, server, "summarize", *SINCE, **llm).exit_code == 0
            assert len(server.requests) == 0 and before >= MODEL_STORIES
    finally:
        server.close()


FAILING = {
    "refusal": ("refusal", "llm_refused", "refused"),
    "empty choices": ("empty-choices", "llm_empty_reply", "empty reply"),
    "HTML page with 200": ("html200", "llm_bad_response", "did not answer as a model server"),
    "401": ("401", "llm_auth", "refused our key"),
    "truncated": ("truncated", "llm_truncated", "cut off"),
    "empty strings": ("blank", "llm_bad_output", "not usable"),
    "slow": ("hang:4", "llm_unavailable", "unavailable"),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(FAILING))
def test_failing_modes_keep_every_pair_with_the_reason_and_fail_the_run(
    tmp_path: Path, sample_ingested_db: Path, mode: str
) -> None:
    behaviour, kind, words = FAILING[mode]
    copy_store(tmp_path, sample_ingested_db)
    server = FakeLLM(default=behaviour)
    try:
        result = cli(tmp_path, server, "summarize", *SINCE)
        assert result.exit_code == 1, result.output  # the model produced nothing: say so
        assert "produced no summary" in result.output and kind in result.output
        records = summaries(tmp_path)
        assert len(records) == MODEL_STORIES and all(r["error_kind"] == kind for r in records)
        shown = [r for r in records if r["summary"]]  # candidate stories wait for a model
        assert len(shown) == SAMPLE_STORIES and all(r["status"] == "local" for r in shown)
        record, markdown = digest(tmp_path, server)
        assert len(record["dyads"]) == SAMPLE_PAIRS
        assert record["ledger"]["llm_failures"].get(kind, 0) >= 1
        assert words in markdown, markdown[:2000]
        status = cli(tmp_path, server, "status")
        assert kind in status.output
        warn = cli(tmp_path, server, "summarize", *SINCE, on_no_summary="warn", retry_hours="0")
        assert warn.exit_code == 0, warn.output
    finally:
        server.close()


@pytest.mark.slow
def test_retries_are_capped_then_the_story_is_failed_and_still_shown(
    tmp_path: Path, sample_ingested_db: Path
) -> None:
    copy_store(tmp_path, sample_ingested_db)
    server = FakeLLM(default="refusal")
    try:
        counts = []
        for _ in range(4):
            server.requests.clear()
            cli(tmp_path, server, "summarize", *SINCE, retry_hours="0", max_attempts="3")
            counts.append(len(server.requests))
        assert counts == [MODEL_STORIES, MODEL_STORIES, MODEL_STORIES, 0]
        records = summaries(tmp_path)
        assert {r["status"] for r in records} == {"failed"}
        assert all(r["attempts"] == 3 for r in records)
        assert len([r for r in records if r["summary"]]) == SAMPLE_STORIES
        record, markdown = digest(tmp_path, server)
        assert len(record["dyads"]) == SAMPLE_PAIRS
        assert record["ledger"]["summaries_failed"] == MODEL_STORIES  # 3 candidates unshown
        assert "after 3 attempts" in markdown
        # with the default backoff (llm.retry_hours) a story is not sent again before its time
        copy_store(tmp_path, sample_ingested_db)
        server.requests.clear()
        cli(tmp_path, server, "summarize", *SINCE)
        assert len(server.requests) == MODEL_STORIES
        again = cli(tmp_path, server, "summarize", *SINCE)
        assert len(server.requests) == MODEL_STORIES
        assert "wait for their next model attempt" in again.output
    finally:
        server.close()


def test_the_airflow_connection_extra_sets_the_profile(tmp_path: Path) -> None:
    from pipeline.config import with_connections
    from tests.conftest import make_settings

    settings = with_connections(
        make_settings(tmp_path),
        llm={
            "host": "http://127.0.0.1:8080/v1",
            "password": "sk-test",
            "extra": {
                "model": "qwen3:4b",
                "provider": "llamacpp",
                "structured_output": False,
                "max_attempts": 5,
                "on_no_summary": "warn",
            },
        },
    )
    llm = settings.llm
    assert (profile_name(llm), llm.structured_output, llm.max_attempts) == ("llamacpp", "prompt", 5)
    assert llm.on_no_summary == "warn" and request_timeout(llm) == 300
    assert uses_reasoning_model(llm) and output_token_limit(llm) == llm.reasoning_output_tokens


# One tested example per provider profile (docs/summaries.md, "Using your model"): what Dyad sends.
PROFILE_REQUESTS = {
    "openai": ("gpt-4o-mini", "max_completion_tokens", "json_schema", True),
    "azure": ("my-gpt-4o-mini-deployment", "max_completion_tokens", "json_schema", True),
    "openrouter": ("openai/gpt-4o-mini", "max_tokens", "json_schema", True),
    "vllm": ("Qwen/Qwen3-8B", "max_tokens", "json_schema", False),
    "ollama": ("llama3.1:8b", "max_tokens", "json_schema", True),
    "llamacpp": ("tiny", "max_tokens", "json_object", True),
    "generic": ("mistral-small", "max_tokens", "json_schema", True),
}


@pytest.mark.parametrize("profile", list(PROFILE_REQUESTS))
def test_each_provider_profile_sends_what_its_server_accepts(
    tmp_path: Path, llm: FakeLLM, profile: str
) -> None:
    model, limit, structured, temperature = PROFILE_REQUESTS[profile]
    settings = llm_settings(tmp_path, llm, provider=profile, model=model)
    record = summarizer(settings).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and len(llm.requests) == 1
    sent = llm.requests[0]
    assert sent["model"] == model and sent[limit] == output_token_limit(settings.llm)
    assert {"max_tokens", "max_completion_tokens"} & set(sent) == {limit}
    assert sent["response_format"]["type"] == structured
    assert ("temperature" in sent) is temperature  # Qwen3 is a reasoning model
    if structured == "json_object":
        assert sent["response_format"]["schema"] == response_schema()
    assert "cooperation_score" in sent["messages"][0]["content"]
