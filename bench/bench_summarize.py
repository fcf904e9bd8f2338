"""Summary cost benchmark: one call per story versus one call per article, on the offline sample.

Ingests the bundled sample into a temporary store, then summarises it against an
OpenAI-compatible stand-in on loopback (tests/llm_server.py, the same server the tests use), and
prints LLM calls and input tokens per bilateral story, next to the naive approach of one call per
bilateral article carrying its full text (same prompt, counted with the same tokenizer), the
ratio (target: at most 0.3x the naive tokens), and the share of summaries passing the grounding
check. A second run shows the cache: zero calls.

Usage: python bench/bench_summarize.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from pipeline import jobs  # noqa: E402
from pipeline.cluster import ClusterInput, cluster_stories  # noqa: E402
from pipeline.config import SAMPLE_DIR, load_settings  # noqa: E402
from pipeline.detect import detect_dyads  # noqa: E402
from pipeline.records import Story, StoryArticle  # noqa: E402
from pipeline.sample import build_sample  # noqa: E402
from pipeline.store.db import open_engine  # noqa: E402
from pipeline.store.stories import bilateral_articles, story_articles  # noqa: E402
from pipeline.store.tables import ArticleRow  # noqa: E402
from pipeline.summarize.prompts import build_messages, new_delimiter  # noqa: E402
from pipeline.summarize.tokens import (  # noqa: E402
    count_tokens,
    tokenizer_name,
    trim_to_budget,
)
from tests.llm_server import FakeLLM  # noqa: E402


def naive_tokens(engine: object, dyads: dict[int, str]) -> int:
    """Input tokens if every article were sent on its own, with its full text (no detection,
    no grouping, no trimming): the same prompt, counted with the same tokenizer."""
    total = 0
    for article_id, dyad in dyads.items():
        story = Story(
            id="x",
            dyad=dyad,
            article_ids=(article_id,),
            outlets=(),
            first_seen=jobs.utc_now(),
            last_seen=jobs.utc_now(),
            content_hash="x",
        )
        (article,) = story_articles(engine, story)  # type: ignore[arg-type]
        messages = build_messages(
            (dyad[:2], dyad[3:]), (dyad[:2], dyad[3:]), [article], [article.text], new_delimiter()
        )
        total += sum(count_tokens(m["content"]) for m in messages)
    return total


def corpus_estimate(budget: int) -> None:
    """Token arithmetic on the real stories of ../shared/corpus (no model calls)."""
    import json
    from datetime import timedelta

    path = ROOT.parent / "shared" / "corpus" / "stories" / "stories.jsonl"
    if not path.exists():
        print("(../shared/corpus/stories absent: real-mix estimate skipped)")
        return
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    now = jobs.utc_now()
    articles = {
        n: StoryArticle(
            article_id=n,
            url=f"corpus:{i['id']}",
            outlet=i.get("source", ""),
            title=i.get("title") or "",
            text=i.get("text") or "",
        )
        for n, i in enumerate(items)
    }

    def tokens(pair: str, members: list[StoryArticle], texts: list[str]) -> int:
        messages = build_messages(
            (pair[:2], pair[3:]), (pair[:2], pair[3:]), members, texts, new_delimiter()
        )
        return sum(count_tokens(m["content"]) for m in messages)

    naive = sum(tokens("XX-YY", [a], [a.text]) for a in articles.values())
    inputs = []
    for n, article in articles.items():
        result = detect_dyads(article.title, article.text)
        if result.bilateral and result.dyad:
            inputs.append(
                ClusterInput(n, result.dyad, now, article.text, article.outlet, article.url)
            )
    stories = cluster_stories(inputs, window=timedelta(hours=72), similarity=0.08)
    ours = 0
    for story in stories:
        members = [articles[i] for i in story.article_ids]
        per_article = max(200, budget // len(members))
        texts = [trim_to_budget(a.text, per_article)[0] for a in members]
        ours += tokens(story.dyad, members, texts)
    print(
        f"Real stories ({len(items)}, ../shared/corpus): naive {len(items)} calls / {naive} "
        f"tokens; Dyad {len(stories)} calls / {ours} tokens; ratio {ours / max(1, naive):.2f}x"
    )


def main() -> None:
    logging.disable(logging.WARNING)
    server = FakeLLM()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            warc = build_sample(SAMPLE_DIR, base / "sample.warc.gz")
            settings = load_settings(
                None,
                data_dir=base / "var",
                replay_path=warc,
                llm={"backend": "openai", "base_url": server.base_url, "api_key": "sk-bench"},
            )
            jobs.run_ingest(settings, base / "feeds.yaml")
            report = jobs.summarize_stories(settings)
            again = jobs.summarize_stories(settings)
            engine = open_engine(settings.effective_database_url)
            articles = bilateral_articles(engine, report.since, report.until)
            with engine.connect() as conn:
                every = [r[0] for r in conn.execute(select(ArticleRow.id))]
            pairs = {a.id: a.dyad for a in articles}
            naive = naive_tokens(engine, {i: pairs.get(i, "XX-YY") for i in every})
            engine.dispose()
    finally:
        server.close()
    stories = max(1, report.stories)
    verified = report.statuses.get("verified", 0)
    print(
        f"Offline sample: {len(articles)} bilateral articles in {report.stories} stories "
        f"(tokenizer: {tokenizer_name()})"
    )
    print(
        f"Dyad:  {report.calls} calls, {report.input_tokens} input tokens "
        f"({report.calls / stories:.2f} calls and {report.input_tokens / stories:.0f} tokens "
        "per story)"
    )
    print(
        f"Naive: {len(every)} calls, {naive} input tokens (one call per ingested article, "
        f"full text, no detection or grouping)"
    )
    print(
        f"Ratio of input tokens, Dyad / naive: {report.input_tokens / max(1, naive):.2f}x "
        f"(target <= 0.3x)"
    )
    print(
        f"Grounding: {verified}/{report.stories} summaries verified "
        f"({verified / stories:.0%}); statuses {report.statuses}"
    )
    print(f"Re-run: {again.calls} calls, {again.unchanged} stories unchanged (cache and store)")
    corpus_estimate(settings.llm.input_token_budget)


if __name__ == "__main__":
    main()
