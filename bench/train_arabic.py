"""Train the learned Arabic-script -> Latin transliterator (qalqan.names.arabic_model).

Run from the repository root:  .venv/bin/python -m bench.train_arabic

Data (read from ../shared/data/matching/transliteration, never copied):
- netransliteration_coling2018/wd_arabic.normalized.aligned.tokens.tsv: Wikidata word pairs,
  latin TAB space-separated Arabic letters TAB count (it contains the test split below);
- netransliteration_coling2018/wd_arabic_20.tsv: the paper's held-out test split;
- google_ar2en/ar2en.txt: arabic TAB latin (mostly Arabic names).

Held out, never trained on (split by Latin word, so a held-out spelling is never seen):
every Latin word of wd_arabic_20, and every other Latin word whose SHA-1 falls in a 10% slice
(`held_out`). Pairs of ar2en whose Latin word is held out are dropped from training too.

Model: each Arabic letter writes a Latin chunk of 0-4 letters. EM (forward-backward over the
monotone alignment lattice) learns the chunk probabilities; the Viterbi alignments become
sequences of joint (letter, chunk) tokens, and an order-N interpolated Witten-Bell n-gram model
over them is written in back-off form, pruned and quantised, to
src/qalqan/names/data/arabic_translit.json.gz. Deterministic: no randomness except the seeded
dev sample; pairs are processed in sorted order.

Prints word accuracy (exact spelling, and mean normalised similarity) on the held-out words.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from qalqan.names.arabic_model import FORMAT, FORMAT_VERSION, ArabicModel, normalise
from qalqan.names.translit import latinize

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("QALQAN_SHARED", REPO.parent / "shared" / "data"))
TRANSLIT = SHARED / "matching" / "transliteration"
ALIGNED = TRANSLIT / "netransliteration_coling2018" / "wd_arabic.normalized.aligned.tokens.tsv"
TEST = TRANSLIT / "netransliteration_coling2018" / "wd_arabic_20.tsv"
AR2EN = TRANSLIT / "google_ar2en" / "ar2en.txt"
OUT = REPO / "src" / "qalqan" / "names" / "data" / "arabic_translit.json.gz"

SEED = 20260227
#: Share of the non-test Latin words held out (by SHA-1 of the word), in percent.
HOLD_PERCENT = 10
#: Longest Latin chunk one Arabic letter writes.
MAX_CHUNK = 4
EM_ITERATIONS = 6
ORDER = 5
#: n-grams of order >= 3 seen fewer times than this are pruned (unless they are histories).
PRUNE_BELOW = 2
#: Letters seen fewer times than this in training are left to the rules (the model declines
#: words holding them): Persian/Urdu/Pashto letters (پ چ ژ گ) are rare in these pairs.
MIN_LETTER = 100
#: Quantisation of log probabilities (stored as integers).
SCALE = 1000
#: Training pairs whose Viterbi alignment scores below this per letter are noise (the Latin
#: word is not a transliteration of the Arabic one) and are left out of the n-gram counts.
NOISE_LOGP_PER_LETTER = -7.0

Pair = tuple[str, str]  # (normalised arabic letters, latin letters)


def latin_form(text: str) -> str:
    return latinize(text).replace(" ", "")


def held_out(latin: str, test_words: set[str]) -> bool:
    if latin in test_words:
        return True
    digest = hashlib.sha1(latin.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HOLD_PERCENT


def strip_article(ar: str, latin: str) -> str:
    """These lists write Arabic names with the article and their Latin without (الدريدي = dridi);
    the transliterator splits the article off before the model sees a word."""
    if ar.startswith("ال") and len(ar) > 3 and not latin.startswith(("al", "el", "ul", "il")):
        return ar[2:]
    return ar


def read_netranslit(path: Path) -> list[tuple[Pair, int]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 2:
                continue
            latin = latin_form(cols[0])
            ar = normalise(cols[1].replace(" ", ""))
            count = int(cols[2]) if len(cols) > 2 and cols[2].strip().isdigit() else 1
            if latin and ar and latin.isalpha():
                out.append(((ar, latin), count))
    return out


def read_ar2en(path: Path) -> list[tuple[Pair, int]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 2:
                continue
            latin = latin_form(cols[1])
            ar = normalise(cols[0])
            if latin and ar and latin.isalpha():
                out.append(((ar, latin), 1))
    return out


def splits() -> tuple[dict[Pair, int], dict[str, list[Pair]]]:
    """(training pairs with weights, held-out pairs by slice: 'wd_arabic_20', 'slice10')."""
    test = read_netranslit(TEST)
    test_words = {lat for (_, lat), _ in test}
    train: dict[Pair, int] = defaultdict(int)
    held: dict[str, set[Pair]] = {"wd_arabic_20": set(), "slice10": set()}
    for (ar, lat), count in read_netranslit(ALIGNED) + read_ar2en(AR2EN):
        if held_out(lat, test_words):
            continue
        train[(strip_article(ar, lat), lat)] += count
    for (ar, lat), _ in read_netranslit(ALIGNED):
        if lat in test_words:
            held["wd_arabic_20"].add((ar, lat))
        elif held_out(lat, test_words):
            held["slice10"].add((ar, lat))
    return dict(sorted(train.items())), {k: sorted(v) for k, v in held.items()}


# --------------------------------------------------------------------------- EM alignment

_PROBS: dict[tuple[str, str], float] = {}


def _edges(ar: str, lat: str) -> bool:
    return len(lat) <= MAX_CHUNK * len(ar)


def _expected(batch: list[tuple[Pair, float]]) -> tuple[dict[tuple[str, str], float], float]:
    """E-step over a batch: expected chunk counts and total log-likelihood."""
    probs = _PROBS
    counts: dict[tuple[str, str], float] = defaultdict(float)
    total = 0.0
    for (ar, lat), w in batch:
        n, m = len(ar), len(lat)
        fwd = [[0.0] * (m + 1) for _ in range(n + 1)]
        fwd[0][0] = 1.0
        for i in range(n):
            c = ar[i]
            row, nrow = fwd[i], fwd[i + 1]
            for j in range(m + 1):
                f = row[j]
                if f == 0.0:
                    continue
                for d in range(min(MAX_CHUNK, m - j) + 1):
                    p = probs.get((c, lat[j : j + d]))
                    if p:
                        nrow[j + d] += f * p
        z = fwd[n][m]
        if z <= 0.0:
            continue
        total += w * math.log(z)
        bwd = [[0.0] * (m + 1) for _ in range(n + 1)]
        bwd[n][m] = 1.0
        for i in range(n - 1, -1, -1):
            c = ar[i]
            row, nrow, frow = bwd[i], bwd[i + 1], fwd[i]
            for j in range(m + 1):
                f = frow[j]
                acc = 0.0
                for d in range(min(MAX_CHUNK, m - j) + 1):
                    key = (c, lat[j : j + d])
                    p = probs.get(key)
                    if p:
                        b = nrow[j + d]
                        if b:
                            acc += p * b
                            if f:
                                counts[key] += w * f * p * b / z
                row[j] = acc
    return dict(counts), total


def em_align(pairs: list[tuple[Pair, float]], processes: int) -> dict[tuple[str, str], float]:
    global _PROBS
    init: dict[tuple[str, str], float] = defaultdict(float)
    for (ar, lat), w in pairs:
        for c in set(ar):
            for j in range(len(lat) + 1):
                for d in range(min(MAX_CHUNK, len(lat) - j) + 1):
                    init[(c, lat[j : j + d])] += 1.0
    _PROBS = _normalise_by_letter(init)
    chunk = max(1, len(pairs) // (processes * 8))
    batches = [pairs[i : i + chunk] for i in range(0, len(pairs), chunk)]
    for it in range(EM_ITERATIONS):
        t = time.perf_counter()
        if processes > 1:
            with mp.get_context("fork").Pool(processes) as pool:
                parts = pool.map(_expected, batches)
        else:
            parts = [_expected(b) for b in batches]
        counts: dict[tuple[str, str], float] = defaultdict(float)
        ll = 0.0
        for part, total in parts:  # merged in batch order: deterministic
            ll += total
            for k, v in part.items():
                counts[k] += v
        # Drop chunks with a negligible expected count: sparser lattices, faster iterations.
        _PROBS = _normalise_by_letter({k: v for k, v in counts.items() if v >= 0.05})
        print(f"  EM {it + 1}: log-likelihood {ll:.0f}, {len(_PROBS)} chunks, {time.perf_counter() - t:.0f}s", file=sys.stderr)
    return _PROBS


def _normalise_by_letter(counts: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    per: dict[str, float] = defaultdict(float)
    for (c, _), v in counts.items():
        per[c] += v
    return {k: v / per[k[0]] for k, v in sorted(counts.items())}


def viterbi(ar: str, lat: str, probs: dict[tuple[str, str], float]) -> tuple[list[tuple[str, str]], float] | None:
    n, m = len(ar), len(lat)
    best: list[list[tuple[float, int]]] = [[(-math.inf, -1)] * (m + 1) for _ in range(n + 1)]
    best[0][0] = (0.0, 0)
    for i in range(n):
        c = ar[i]
        for j in range(m + 1):
            s = best[i][j][0]
            if s == -math.inf:
                continue
            for d in range(min(MAX_CHUNK, m - j) + 1):
                p = probs.get((c, lat[j : j + d]))
                if p:
                    v = s + math.log(p)
                    if v > best[i + 1][j + d][0]:
                        best[i + 1][j + d] = (v, d)
    if best[n][m][0] == -math.inf:
        return None
    out: list[tuple[str, str]] = []
    j = m
    for i in range(n, 0, -1):
        d = best[i][j][1]
        out.append((ar[i - 1], lat[j - d : j]))
        j -= d
    out.reverse()
    return out, best[n][m][0]


# --------------------------------------------------------------------------- n-gram model


def ngram_model(sequences: list[tuple[list[int], float]], order: int) -> dict[tuple[int, ...], tuple[float, float]]:
    """Interpolated Witten-Bell over token ids (0 = <s>, 1 = </s>), in back-off form:
    gram -> (log P(w | h) interpolated, log back-off weight when the gram is a history)."""
    counts: list[dict[tuple[int, ...], float]] = [defaultdict(float) for _ in range(order + 1)]
    for seq, w in sequences:
        full = [0, *seq, 1]
        for i in range(1, len(full)):
            for k in range(1, min(order, i + 1) + 1):
                counts[k][tuple(full[i - k + 1 : i + 1])] += w
    # History statistics: total count and distinct followers.
    hist_total: dict[tuple[int, ...], float] = defaultdict(float)
    hist_types: dict[tuple[int, ...], int] = defaultdict(int)
    for k in range(1, order + 1):
        for gram, c in counts[k].items():
            hist_total[gram[:-1]] += c
            hist_types[gram[:-1]] += 1
    vocab = len(counts[1]) + 1
    prob: dict[tuple[int, ...], float] = {}

    def lower(gram: tuple[int, ...]) -> float:
        if len(gram) == 1:
            return prob.get(gram, 1.0 / vocab)
        hit = prob.get(gram)
        if hit is not None:
            return hit
        h = gram[:-1]
        t = hist_types.get(h, 0)
        if not t:
            return lower(gram[1:])
        lam = hist_total[h] / (hist_total[h] + t)
        return (1 - lam) * lower(gram[1:])

    for k in range(1, order + 1):
        for gram, c in sorted(counts[k].items()):
            h = gram[:-1]
            total, types = hist_total[h], hist_types[h]
            lam = total / (total + types)
            base = lower(gram[1:]) if k > 1 else 1.0 / vocab
            prob[gram] = lam * c / total + (1 - lam) * base
    # Pruning: keep low orders whole; higher orders when frequent or needed as a history.
    keep: set[tuple[int, ...]] = set()
    for k in range(order, 0, -1):
        for gram, c in counts[k].items():
            if k <= 2 or c >= PRUNE_BELOW or gram in keep:
                keep.add(gram)
                keep.add(gram[:-1])
    keep.discard(())
    out: dict[tuple[int, ...], tuple[float, float]] = {}
    for gram in sorted(keep, key=lambda g: (len(g), g)):
        # A history never predicted itself (<s>) still carries a back-off weight.
        out[gram] = (math.log(prob[gram]) if gram in prob else math.log(1e-7), 0.0)
    # Back-off weights over the kept grams: the mass the kept followers of h leave, spread over
    # the lower-order distribution of the followers h lacks.
    followers: dict[tuple[int, ...], list[tuple[int, ...]]] = defaultdict(list)
    for gram in out:
        if len(gram) > 1:
            followers[gram[:-1]].append(gram)
    for h, grams in followers.items():
        if h not in out:
            continue
        kept = sum(math.exp(out[g][0]) for g in grams)
        lower_kept = sum(_backoff_prob(out, g[1:]) for g in grams)
        left, lower_left = max(1e-9, 1.0 - kept), max(1e-9, 1.0 - lower_kept)
        out[h] = (out[h][0], math.log(left / lower_left))
    return out


def _backoff_prob(model: dict[tuple[int, ...], tuple[float, float]], gram: tuple[int, ...]) -> float:
    back = 0.0
    while True:
        hit = model.get(gram)
        if hit is not None:
            return math.exp(back + hit[0])
        if len(gram) == 1:
            return 1e-9
        h = model.get(gram[:-1])
        if h is not None:
            back += h[1]
        gram = gram[1:]


# --------------------------------------------------------------------------- evaluation


def word_accuracy(model: ArabicModel, pairs: list[Pair]) -> dict[str, float]:
    exact = sim = top5 = 0.0
    for ar, lat in pairs:
        found = model.decode(ar, 5)
        best = found[0][0] if found else ""
        exact += best == lat
        top5 += any(c == lat for c, _ in found)
        sim += Levenshtein.normalized_similarity(best, lat)
    n = max(1, len(pairs))
    return {"pairs": len(pairs), "exact": exact / n, "top5": top5 / n, "similarity": sim / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--order", type=int, default=ORDER)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--eval-sample", type=int, default=1000, help="held-out words decoded per slice for the printout (0: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train, held = splits()
    print(f"training pairs {len(train)}, held out: " + ", ".join(f"{k} {len(v)}" for k, v in held.items()), file=sys.stderr)
    # Alignment weight: one per distinct pair (counts favour a few famous names).
    pairs = [(p, 1.0) for p in train if _edges(*p)]
    probs = em_align(pairs, processes=min(2, os.cpu_count() or 1))
    token_ids: dict[tuple[str, str], int] = {("<s>", ""): 0, ("</s>", ""): 1}
    sequences: list[tuple[list[int], float]] = []
    dropped = 0
    for (ar, lat), count in train.items():
        found = viterbi(ar, lat, probs) if _edges(ar, lat) else None
        if found is None or found[1] / len(ar) < NOISE_LOGP_PER_LETTER:
            dropped += 1
            continue
        seq = [token_ids.setdefault(tok, len(token_ids)) for tok in found[0]]
        sequences.append((seq, 1.0 + math.log(count)))
    print(f"aligned {len(sequences)}, dropped as noise {dropped}, tokens {len(token_ids)}", file=sys.stderr)
    letter_counts = Counter(c for (ar, _), _ in train.items() for c in ar)
    letters = sorted(c for c, n in letter_counts.items() if n >= MIN_LETTER)
    model = ngram_model(sequences, args.order)
    tokens = [f"{a}\t{b}" for (a, b), _ in sorted(token_ids.items(), key=lambda kv: kv[1])]
    grams: list[list[int]] = [[] for _ in range(args.order)]
    for gram, (lp, bo) in model.items():
        grams[len(gram) - 1].extend([*gram, round(lp * SCALE), round(bo * SCALE)])
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "order": args.order,
        "scale": SCALE,
        "floor": round(math.log(1e-7) * SCALE),
        "tokens": tokens,
        "grams": grams,
        "letters": "".join(letters),
        "meta": {
            "trained_by": "bench/train_arabic.py",
            "training_pairs": len(sequences),
            "held_out": f"Latin words of wd_arabic_20 and a {HOLD_PERCENT}% SHA-1 slice of the other Latin words",
            "em_iterations": EM_ITERATIONS,
            "max_chunk": MAX_CHUNK,
            "prune_below": PRUNE_BELOW,
        },
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {sum(len(g) // (k + 3) for k, g in enumerate(grams))} grams)", file=sys.stderr)
    loaded = ArabicModel(data)
    rng = random.Random(SEED)
    for name, pairs_held in held.items():
        sample = pairs_held if not args.eval_sample or len(pairs_held) <= args.eval_sample else rng.sample(pairs_held, args.eval_sample)
        acc = word_accuracy(loaded, sample)
        print(f"{name}: {acc}", file=sys.stderr)
    print(f"done in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
