"""Train the bilateral-detection model from the labelled real-news set (``make train-detect``).

Reads ``tests/data/real_news.jsonl``; computes one feature vector per candidate pair
(``pipeline.detect.features``) for the train and dev splits together (the test split is never
read here); a word model (a logistic regression over the headline's and lead's words, country
names left out, words in at least ``MIN_DF`` items) whose out-of-fold score is the last feature,
so the pair model never sees a score fitted on the same item; a standardised logistic
regression (scikit-learn, a dev dependency) over the pair features. Regularisation and both
operating points are chosen by 5-fold cross-validation over train + dev (folds fixed by the
id): the strength in ``CS`` with the best out-of-fold F1 on clear-cut items, ``final`` = the
threshold with that best F1, ``candidate`` = the highest threshold with out-of-fold recall >=
0.95 on all items. Then both models are fitted on all of train + dev and written to
``pipeline/data/detect_model.json``. Deterministic: the same data gives a byte-identical file
(a test checks it).

Usage: python scripts/train_detect.py [--data PATH] [--out PATH] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detect.features import FEATURES, Candidate, read_article  # noqa: E402
from pipeline.detect.gazetteer import load_gazetteer  # noqa: E402
from pipeline.detect.labelled import LabelledArticle, Scores, load_labelled, score  # noqa: E402
from pipeline.detect.model import MODEL_FILE, MODEL_FORMAT, WORDS_FEATURE  # noqa: E402

DATA = ROOT / "tests" / "data" / "real_news.jsonl"
CS = (0.03, 0.1, 0.3, 1.0, 3.0)
WORDS_C = 0.3
MIN_DF = 3
CANDIDATE_RECALL = 0.95
FOLDS = 5


@dataclass
class Featurized:
    item: LabelledArticle
    candidates: list[Candidate]
    words: frozenset[str]
    words_score: float = 0.0


def featurize(items: list[LabelledArticle]) -> list[Featurized]:
    gaz = load_gazetteer()
    out = []
    for item in items:
        read = read_article(item.title, item.text, None, gaz)
        out.append(Featurized(item, read.candidates, read.signals.words))
    return out


def _rows(data: list[Featurized]) -> tuple[list[tuple[float, ...]], list[int]]:
    xs, ys = [], []
    for f in data:
        for c in f.candidates:
            xs.append((*c.features, f.words_score))
            ys.append(int(f.item.bilateral and c.pair == f.item.countries))
    return xs, ys


def _best(probability, f: Featurized) -> tuple[float, tuple[str, ...]]:
    best, pair = 0.0, ()
    for c in f.candidates:
        p = probability((*c.features, f.words_score))
        if p > best:
            best, pair = p, c.pair
    return best, pair


def fit_words(train_set: list[Featurized], others: list[Featurized]) -> dict[str, object]:
    """The word model fitted on ``train_set``; sets ``words_score`` on every item of train_set
    (out-of-fold, 5 folds) and of ``others`` (the fitted model)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    def doc(f: Featurized) -> str:
        return " ".join(sorted(f.words))

    vectorizer = CountVectorizer(min_df=MIN_DF, binary=True, token_pattern=r"[^ ]+")  # noqa: S106
    x = vectorizer.fit_transform([doc(f) for f in train_set])
    y = [int(f.item.bilateral) for f in train_set]
    model = LogisticRegression(C=WORDS_C, max_iter=5000, solver="lbfgs")
    oof = cross_val_predict(model, x, y, cv=5, method="decision_function")
    model.fit(x, y)
    vocabulary = vectorizer.vocabulary_
    weights = {w: round(float(model.coef_[0][i]), 5) for w, i in sorted(vocabulary.items())}
    words: dict[str, object] = {
        "intercept": round(float(model.intercept_[0]), 5),
        "min_df": MIN_DF,
        "C": WORDS_C,
        "weights": {w: v for w, v in weights.items() if v != 0.0},
    }
    for f, value in zip(train_set, oof, strict=True):
        f.words_score = round(float(value), 6)
    intercept = float(words["intercept"])  # type: ignore[arg-type]
    for f in others:
        f.words_score = intercept + sum(weights.get(w, 0.0) for w in f.words)
    return words


def fold_of(item_id: str) -> int:
    """One of FOLDS cross-validation folds, fixed by the id (other hash digits than the split)."""
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[8:16], 16) % FOLDS


def fit_pairs(data: list[Featurized], c: float):  # type: ignore[no-untyped-def]
    """The standardised pair model on ``data`` (its words_score already set)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    xs, ys = _rows(data)
    scaler = StandardScaler().fit(xs)
    lr = LogisticRegression(C=c, max_iter=5000, solver="lbfgs").fit(scaler.transform(xs), ys)
    return scaler, lr, len(ys)


def out_of_fold(
    pool: list[Featurized], c: float
) -> list[tuple[Featurized, float, tuple[str, ...]]]:
    """Every pool item scored by the models fitted on the other folds."""
    ranked = []
    for k in range(FOLDS):
        fit_on = [f for f in pool if fold_of(f.item.id) != k]
        held = [f for f in pool if fold_of(f.item.id) == k]
        fit_words(fit_on, held)
        scaler, lr, _ = fit_pairs(fit_on, c)
        for f in held:
            best, pair = 0.0, ()
            if f.candidates:
                rows = scaler.transform([(*c_.features, f.words_score) for c_ in f.candidates])
                probabilities = lr.predict_proba(rows)[:, 1]
                for candidate, p in zip(f.candidates, probabilities, strict=True):
                    if p > best:
                        best, pair = float(p), candidate.pair
            ranked.append((f, best, pair))
    return ranked


def _scores_at(ranked: list[tuple[Featurized, float, tuple[str, ...]]], t: float) -> Scores:
    lookup = {id(f.item): (p, pair) for f, p, pair in ranked}

    def predict(item: LabelledArticle) -> tuple[bool, tuple[str, ...]]:
        p, pair = lookup[id(item)]
        return p >= t, pair

    return score([f.item for f, _, _ in ranked], predict)


def choose_thresholds(ranked: list[tuple[Featurized, float, tuple[str, ...]]]) -> dict[str, float]:
    grid = [round(0.01 * k, 2) for k in range(1, 100)]
    clear = [r for r in ranked if not r[0].item.borderline]
    final = max(grid, key=lambda t: (round(_scores_at(clear, t).f1, 6), -abs(t - 0.5)))
    candidate = max(
        (t for t in grid if _scores_at(ranked, t).recall >= CANDIDATE_RECALL), default=grid[0]
    )
    return {"candidate": min(candidate, final), "final": final}


def train(data_path: Path) -> dict[str, object]:
    items = load_labelled(data_path)
    pool = featurize([i for i in items if i.split in ("train", "dev")])  # never the test split
    best = None
    for c in CS:
        ranked = out_of_fold(pool, c)
        thresholds = choose_thresholds(ranked)
        clear = [r for r in ranked if not r[0].item.borderline]
        f1 = _scores_at(clear, thresholds["final"]).f1
        print(f"C={c}: cross-validated clear-cut F1 {f1:.3f} at {thresholds}", file=sys.stderr)
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, c, thresholds, ranked)
    assert best is not None
    f1, c, thresholds, ranked = best
    clear = [r for r in ranked if not r[0].item.borderline]
    cv_final = _scores_at(clear, thresholds["final"])
    cv_candidate = _scores_at(ranked, thresholds["candidate"])
    words = fit_words(pool, [])
    scaler, lr, pairs = fit_pairs(pool, c)
    data_hash = hashlib.sha256(data_path.read_bytes()).hexdigest()[:12]
    model: dict[str, object] = {
        "format": MODEL_FORMAT,
        "kind": "logistic regression over standardised features (scikit-learn lbfgs)",
        "version": hashlib.sha256(json.dumps([data_hash, FEATURES, c]).encode("utf-8")).hexdigest()[
            :8
        ],
        "trained_on": {
            "data": "tests/data/real_news.jsonl",
            "sha256_12": data_hash,
            "splits": "train + dev (test never read)",
            "items": len(pool),
            "pairs": pairs,
            "folds": FOLDS,
            "C": c,
        },
        "cross_validated": {
            "final_clear_cut": _as_dict(cv_final),
            "candidate_all": _as_dict(cv_candidate),
        },
        "thresholds": thresholds,
        "features": [*FEATURES, WORDS_FEATURE],
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scaler.scale_],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "words": words,
    }
    return model


def _as_dict(s: Scores) -> dict[str, float]:
    return {
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "f1": round(s.f1, 4),
        "pair_accuracy": round(s.pair_accuracy, 4),
        "items": s.items,
    }


def render(model: dict[str, object]) -> str:
    """The model file's text: one feature per line, so a review reads as a table."""
    head = {
        k: v for k, v in model.items() if k not in ("features", "mean", "scale", "coef", "words")
    }
    lines = json.dumps(head, indent=2, sort_keys=False)[:-2] + ',\n  "features": [\n'
    rows = zip(model["features"], model["mean"], model["scale"], model["coef"], strict=True)  # type: ignore[call-overload]
    body = [f"    {json.dumps(n)}" for n, *_ in rows]
    lines += ",\n".join(body) + "\n  ],\n"
    for key in ("mean", "scale", "coef"):
        values = ", ".join(json.dumps(v) for v in model[key])  # type: ignore[attr-defined]
        lines += f'  "{key}": [{values}],\n'
    words = dict(model["words"])  # type: ignore[call-overload]
    weights = words.pop("weights")
    lines += '  "words": {\n'
    lines += "".join(f"    {json.dumps(k)}: {json.dumps(v)},\n" for k, v in words.items())
    rows = [f"      {json.dumps(w)}: {json.dumps(v)}" for w, v in weights.items()]
    lines += '    "weights": {\n' + ",\n".join(rows) + "\n    }\n  }\n"
    return lines + "}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs")
    args = parser.parse_args()
    text = render(train(args.data))
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("detection model is up to date" if same else f"{args.out} differs: retrain")
        raise SystemExit(0 if same else 1)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
