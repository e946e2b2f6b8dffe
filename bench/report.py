"""Renders bench/results/*.json into the Markdown table bench/results/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.common import CANDIDATE_CAP, PEER_THRESHOLD, RESULTS_DIR

SCORERS = ("qalqan", "qalqan-rerank", "logic-v2", "logic-v1")
ORDER = ("a", "b", "c", "d", "e", "t", "speed", "scale", "load", "ray")

METHOD = f"""\
How to read this (all figures from the same run per section; JSON beside this file):

- **Scorers.** `qalqan` is Qalqan's `Screener.match()` end to end (its own index and retrieval).
  `qalqan-rerank`, `logic-v2` and `logic-v1` all re-rank **the same candidate set** per query:
  yente retrieves with Elasticsearch and then scores with nomenklatura; without Elasticsearch, a
  neutral, generous retriever written in `bench/common.py` stands in for it (union of entities
  sharing any key with the query — ASCII token, its metaphone code or consonant skeleton, a
  joined adjacent-token pair, or a rigour name symbol (cross-script name identity, as
  nomenklatura's own name tagging finds it) — ranked by summed IDF of the shared keys, top
  {CANDIDATE_CAP}). Its recall is reported separately
  ("retriever recall"): a re-ranker cannot find what it was not given.
- `qalqan-rerank` scores each shared candidate with `qalqan.matching.score_pair` (one query, one
  entity, no list around it, so every token counts as equally rare); `qalqan` ranks with the
  token rarity of its whole index.
- **Thresholds.** logic-v2 / logic-v1: nomenklatura's default configuration
  (`Algorithm.default_config()`), match at score >= {PEER_THRESHOLD} (yente's default
  `SCORE_THRESHOLD`). Qalqan: its default (calibrated) threshold, shown per section.
- **recall@1**: the right entity is ranked first; ties at the top share the credit (1/k).
  **recall@1 & matched**: also at or above the scorer's threshold.
- **(a)/(b) folds.** Rebuilding an index per query is too slow, so fold k removes the k-th
  held-out name of *every* entity that has one (each entity loses at most one name per fold);
  each fold gets its own Qalqan index and retriever, and queries are those held-out names, with
  no other property than the entity's schema.
- **(c)** pairs scored one to one (Qalqan: `score_pair`, or a one-entity Screener where that is
  missing). watchman's file has positives only: negatives pair each query with every other
  pair's expected name (an identical expected name excluded).
- **(d)** every row of yente's `negatives_us.csv` (name, birth date, nationality, gender),
  screened against the whole UN list; an alert is any candidate at or over the threshold.
- **(e)** seeded namesakes: a listed person's given names + another family name, and the family
  name + other given names; birth year >= 5 years from the listed one, another nationality.
- **Speed** runs on one core per process; logic-v2's single-query figure times scoring the shared
  candidates only (retrieval excluded), i.e. a lower bound on its cost.
- **Ray engine** (`bench/ray_engine.py`): the same generated file is screened against the UN list
  by the local engine (2 forked processes) and by `qalqan screen --engine ray`'s engine on a local
  Ray cluster of 2 CPUs; both outputs are compared byte for byte. The overhead is the Ray run's
  time over the local run's (object-store put, task scheduling, results through the driver), with
  the cluster's start stated apart (paid once per process, not per file).
- **Multi-node projection** (not measured: no cluster here). A run on C cores of several nodes is
  projected as: cluster start + the pickled screener fetched once per node (at 1 Gbit/s) + rows /
  min(C x the local per-core rate measured here x the Ray/local efficiency measured here, the
  driver's ceiling). The driver's ceiling is measured on the same local cluster: the same chunks
  of the same file sent as Ray tasks that screen nothing and return output of the real size,
  taken back in order and written; past it, more nodes do not help, since every row passes
  through the one driver (ordered output). It assumes nodes whose cores are as fast as these and
  a network that carries the chunks (rows out, their output back; `output_bytes_per_row` in
  ray.json) without queueing. Beyond the ceiling, split the file and run one driver per part:
  the parts' outputs concatenate in input order.
"""


def pct(x: float | None) -> str:
    if x is None:
        return "—"
    # Alert rates are often a few in 10,000: keep them visible instead of rounding to 0.0%.
    return f"{100 * x:.2f}%" if 0 < x < 0.01 else f"{100 * x:.1f}%"


def _scorer_names(data: dict[str, Any]) -> list[str]:
    present = data.get("scorers", {})
    return [s for s in SCORERS if s in present]


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def section_table(section: str, data: dict[str, Any]) -> str:
    title = data.get("title", section)
    lines = [f"### {title}", ""]
    if section in ("a", "b"):
        target = "99%" if section == "a" else "95%"
        names = _scorer_names(data)
        rows = [
            ["recall@1", f">= {target}, > logic-v2", *[pct(data["scorers"][s]["recall_at_1"]) for s in names]],
            ["recall@1 & matched", "", *[pct(data["scorers"][s]["recall_at_1_matched"]) for s in names]],
            ["recall@1 where retrieved", "", *[pct(data["scorers"][s].get("recall_at_1_when_retrieved")) for s in names]],
            ["threshold", "", *[f"{data['thresholds'][s]:.2f}" for s in names]],
        ]
        lines.append(_table(["metric", "target", *names], rows))
        lines.append("")
        lines.append(
            f"{data['queries']} queries in {data['folds']} folds; retriever recall (target among the "
            f"shared {data['candidate_cap']} candidates): {pct(data['retriever_recall'])}."
        )
    elif section == "t":
        names = _scorer_names(data)
        rows = [["all kinds: recall@1", ">= logic-v2 + 1 point", *[pct(data["scorers"][s]["recall_at_1"]) for s in names]],
                ["all kinds: recall@1 & matched", "", *[pct(data["scorers"][s]["recall_at_1_matched"]) for s in names]]]
        for kind, kd in data["kinds"].items():
            rows.append([f"{kind} ({kd['queries']}): recall@1 / & matched", "",
                         *[f"{pct(kd['scorers'][s]['recall_at_1'])} / {pct(kd['scorers'][s]['recall_at_1_matched'])}" for s in names]])
        rows.append(["threshold", "", *[f"{data['thresholds'][s]:.2f}" for s in names]])
        lines.append(_table(["metric", "target", *names], rows))
        lines.append("")
        lines.append(f"{data['queries']} queries from {data['sample_entities']} sampled entities; retriever recall: {pct(data['retriever_recall'])}.")
    elif section == "c":
        for key, ds in data["datasets"].items():
            names = _scorer_names(ds)
            rows = [
                [m, "F1 >= logic-v2" if m == "f1" else "", *[pct(ds["scorers"][s][m]) for s in names]]
                for m in ("precision", "recall", "f1")
            ]
            rows.append(["tp/fp/fn/tn", "", *["/".join(str(ds["scorers"][s][k]) for k in ("tp", "fp", "fn", "tn")) for s in names]])
            lines.append(f"**{key}** ({ds['pairs']} pairs, {ds['positives']} positive)")
            lines.append("")
            lines.append(_table(["metric", "target", *names], rows))
            lines.append("")
    elif section in ("d", "e"):
        names = _scorer_names(data)
        target = "0 alerts" if section == "d" else "<= half logic-v2"
        rows = [
            ["alert rate", target, *[pct(data["scorers"][s]["alert_rate"]) for s in names]],
            ["alerts", "", *[str(data["scorers"][s]["alerts"]) for s in names]],
        ]
        lines.append(_table(["metric", "target", *names], rows))
        lines.append("")
        if section == "e" and "name_only" in data:
            lines.insert(-1, "| alert rate, name only (no DOB / nationality) |  | " + " | ".join(pct(data["name_only"][s]["alert_rate"]) for s in names) + " |")
        lines.append(f"{data['queries']} queries; mean shared candidates per query {data['mean_candidates']:.1f}.")
        if section == "d" and data.get("qalqan_all"):
            qa = data["qalqan_all"]
            lines.append(
                f"Side by side on a seeded sample of {data['queries']:,} of the {data['sampled_from']:,} people "
                f"(`--full` scores all). **qalqan end to end on all {qa['queries']:,}: {qa['alerts']} alerts "
                f"({pct(qa['alert_rate'])})**."
            )
        if section == "d":
            if data.get("qalqan_all", {}).get("top_alerts"):
                lines.append("")
                lines.append(f"Top false alerts, qalqan end to end on all {data['qalqan_all']['queries']:,}:")
                lines.append("")
                lines.append(_table(["query", "candidate", "score"], [[t["query"], t["candidate"], f"{t['score']:.3f}"] for t in data["qalqan_all"]["top_alerts"]]))
            for s in names:
                top = data["scorers"][s]["top_alerts"]
                if top:
                    lines.append("")
                    lines.append(f"Top false alerts, {s} (sample):")
                    lines.append("")
                    lines.append(_table(["query", "candidate", "score"], [[t["query"], t["candidate"], f"{t['score']:.3f}"] for t in top]))
    elif section in ("speed", "scale"):
        lines.append(_speed_table(section, data))
    elif section == "load":
        lines.append(_load_table(data))
    elif section == "ray":
        lines.append(_ray_table(data))
    return "\n".join(lines)


def _ray_table(data: dict[str, Any]) -> str:
    local, remote = data["local"], data["ray"]
    rows = [
        ["local engine", f"{data['cpus']} processes", f"{local['seconds']:.0f} s, {local['rows_per_s']:,.0f} rows/s"],
        ["Ray engine", f"local cluster, {data['cpus']} CPUs", f"{remote['seconds']:.0f} s, {remote['rows_per_s']:,.0f} rows/s"],
        ["Ray overhead", "", f"{data['overhead_pct']:+.1f}% run time; cluster start {remote['startup_seconds']:.1f} s (once per process)"],
        ["identical output", "byte for byte", "yes" if data["identical_output"] else "**NO**"],
        ["screener in the object store", "", f"{data['screener_pickled_mb']:.1f} MB pickled (fetched once per node)"],
        ["driver ceiling", "", f"{data['driver_ceiling_rows_per_s']:,.0f} rows/s (the same chunks through Ray, nothing screened)"],
    ]
    proj = [
        [f"{p['cores']} cores", f"{p['rows_per_s']:,.0f} rows/s" + (" (driver-bound)" if p["driver_bound"] else ""), f"{p['hours_100m']:.1f} h"]
        for p in data["projection"]
    ]
    return (
        _table(["measure", "setting", f"{data['rows']:,} rows"], rows)
        + f"\n\nProjection for a multi-node cluster, {data['projected_rows']:,} rows (see Method):\n\n"
        + _table(["cluster", "throughput", "time"], proj)
    )


def _load_row(label: str, d: dict[str, Any]) -> list[str]:
    return [
        label,
        f"{d['clients']} clients x {d['seconds']:.0f} s: {d['requests']:,} requests, {d['requests_per_second']:,.0f}/s",
        f"{d['errors']}",
        f"{d['p50_ms']:.1f} ms",
        f"{d['p99_ms']:.1f} ms",
    ]


def _load_table(data: dict[str, Any]) -> str:
    rows = [_load_row(f"SQLite store, {data['list']}", data)]
    if "postgresql" in data:
        rows.append(_load_row("PostgreSQL store", data["postgresql"]))
    note = (
        "\n\nEach request: API-key check, purpose, an audit entry written, one single-name `POST /match/un`; "
        "server: one `qalqan serve` process (uvicorn); clients: one thread and one keep-alive connection each, in the benchmark process."
    )
    return _table(["store", "load", "errors (target 0)", "p50", "p99"], rows) + note


def _speed_table(section: str, data: dict[str, Any]) -> str:
    rows: list[list[str]] = []
    single = data.get("single", {})
    target_qps = ">= 2,000 q/s" if section == "speed" else ">= 300 q/s"
    for name, s in single.items():
        rows.append(
            [f"single query, 1 core: {name}", target_qps if name == "qalqan" else "", f"{s['qps']:,.0f} q/s (p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms; {s['queries']} queries{', ' + s['note'] if s.get('note') else ''})"]
        )
    b = data.get("build")
    if b:
        target = "" if section == "speed" else "< 5 min, < 4 GB"
        rows.append([f"index build ({b['entities']:,} entities)", target, f"{b['seconds']:.1f} s; RSS {b['baseline_rss_mb']:,.0f} MB before the build, {b.get('rss_after_mb', 0):,.0f} MB after; process peak {b['peak_rss_mb']:,.0f} MB (includes reading or generating the list)"])
    batch = data.get("batch")
    if batch:
        done = f"{batch['rows']:,} rows in {batch['seconds']:.0f} s = {batch['rows_per_s']:,.0f} rows/s on {batch['processes']} processes"
        proj = batch["projected_1m_minutes"]
        rows.append(["batch, 2 cores", "1M rows < 10 min", f"{done}; 1M rows: {proj:.1f} min{' (projected)' if batch['rows'] < 1_000_000 else ''} [{batch['api']}]"])
    if section == "scale" and "generation_seconds" in data:
        rows.append(["synthetic list generation", "", f"{data['entities']:,} entities in {data['generation_seconds']:.0f} s (seed {data['seed']})"])
    return _table(["measure", "target", "measured"], rows)


def load_all() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        if path.stem in ORDER:  # other tools (e.g. transliteration eval) may write here too
            out[path.stem] = orjson.loads(path.read_bytes())
    return out


def _summary(results: dict[str, dict[str, Any]]) -> str:
    rows: list[list[str]] = []

    def scorer_row(label: str, target: str, data: dict[str, Any], key: str) -> None:
        rows.append([label, target, *[pct(data["scorers"][s][key]) if s in data["scorers"] else "—" for s in SCORERS]])

    if "a" in results:
        scorer_row("(a) alias LOO recall@1", ">= 99%", results["a"], "recall_at_1")
    if "b" in results:
        scorer_row("(b) original-script recall@1", ">= 95%", results["b"], "recall_at_1")
    if "t" in results:
        scorer_row("(t) typos/reordering recall@1", ">= logic-v2 + 1", results["t"], "recall_at_1")
        scorer_row("(t) typos/reordering recall@1 & matched", "", results["t"], "recall_at_1_matched")
    if "c" in results:
        for key, ds in results["c"]["datasets"].items():
            rows.append([f"(c) F1 {key}", ">= logic-v2", *[pct(ds["scorers"][s]["f1"]) if s in ds["scorers"] else "—" for s in SCORERS]])
    if "d" in results:
        scorer_row("(d) false-alert rate", "0", results["d"], "alert_rate")
        qa = results["d"].get("qalqan_all")
        if qa:
            rows[-1][0] += f" ({results['d']['queries']:,} sample; qalqan on all {qa['queries']:,}: {qa['alerts']} alerts)"
    if "e" in results:
        scorer_row("(e) namesake alert rate", "<= half logic-v2", results["e"], "alert_rate")
        if "name_only" in results["e"]:
            scorer_row("(e) namesakes, name only", "", {"scorers": results["e"]["name_only"]}, "alert_rate")
    for section, label, target in (("speed", "UN list", ">= 2,000 q/s"), ("scale", "synthetic list", ">= 300 q/s")):
        data = results.get(section)
        if not data:
            continue
        n = data.get("build", {}).get("entities", 0)
        single = data.get("single", {})
        cells = {k: f"{v['qps']:,.0f} q/s (p99 {v['p99_ms']:.1f} ms)" for k, v in single.items()}
        if "logic-v2" in cells:
            cells["logic-v2"] += ", scoring only"
        rows.append([f"single name, 1 core, {label} ({n:,} entities)", target, *[cells.get(s, "—") for s in SCORERS]])
        b = data.get("build")
        if b:
            cell = f"{b['seconds']:.1f} s, RSS after build {b.get('rss_after_mb', 0):,.0f} MB, process peak {b['peak_rss_mb']:,.0f} MB"
            rows.append([f"index build, {label}", "< 5 min, < 4 GB (1M list)", cell, "", "", ""])
        batch = data.get("batch")
        if batch:
            proj = " (projected)" if batch["rows"] < 1_000_000 else ""
            rows.append(["1,000,000 rows batch, 2 cores", "< 10 min", f"{batch['projected_1m_minutes']:.1f} min{proj}", "", "", ""])
    monitoring = RESULTS_DIR / "monitoring.json"  # written by `python -m bench.monitor`
    if monitoring.exists():
        m = orjson.loads(monitoring.read_bytes())
        r = m["rescreen"]
        cell = (f"{m['import_2026_total_seconds']:.1f} s ({r['screened']:,} screened after the prefilter; "
                f"{r['alerts_new']} new alerts, {r['closed_delisted']} closed-delisted)")
        rows.append([f"UN 2025 -> 2026 delta re-screen, {m['subjects']:,} subjects, {m['workers']} workers", "< 2 min", cell, "", "", ""])
    arabic = RESULTS_DIR / "arabic.json"  # written by `python -m bench.arabic_eval`
    if arabic.exists():
        a = orjson.loads(arabic.read_bytes())["scorers"]
        learned, rules, v2 = a.get("qalqan (learned)", {}), a.get("qalqan (rules)", {}), a.get("logic-v2", {})
        rows.append([f"Arabic-script names of non-Arab people, held out (rules only: {pct(rules.get('recall_at_1'))})",
                     ">= 80% recall@1", pct(learned.get("recall_at_1")), "—", pct(v2.get("recall_at_1")), "—"])
    cyrillic = RESULTS_DIR / "cyrillic.json"  # written by `python -m bench.cyrillic_eval`
    if cyrillic.exists():
        c = orjson.loads(cyrillic.read_bytes())
        for label, cell in _cyrillic_rows(c):
            rows.append([label, ">= 95% at threshold (recall@1)", *cell])
    speed = results.get("speed", {})
    cli = speed.get("cli_start") if speed else None
    if cli:
        names_only = cli.get("names_only", {})
        full = cli.get("with_dob_nationality", {})
        cell = (f"names only: {names_only.get('cached_median_s', 0):.2f} s cached (cold {names_only.get('cold_s', 0):.2f} s); "
                f"with DOB/nationality: {full.get('cached_median_s', 0):.2f} s")
        rows.append([f"`qalqan screen` of {cli.get('rows', 10)} rows, list seen before", "< 1.5 s", cell, "", "", ""])
    ray = results.get("ray")
    if ray:
        cell = (f"{ray['ray']['seconds'] / 60:.1f} min vs {ray['local']['seconds'] / 60:.1f} min local ({ray['overhead_pct']:+.1f}%; "
                f"cluster start {ray['ray']['startup_seconds']:.0f} s); output identical: {'yes' if ray['identical_output'] else 'NO'}")
        rows.append([f"{ray['rows']:,} rows batch, Ray engine, local cluster of {ray['cpus']} CPUs", "identical output", cell, "", "", ""])
    load = results.get("load")
    if load:
        cell = f"{load['errors']} errors; p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms; {load['requests_per_second']:,.0f} req/s"
        rows.append([f"load: {load['clients']} screening clients x {load['seconds']:.0f} s, loopback", "0 errors", cell, "", "", ""])
    return _table(["measure", "target", *SCORERS], rows)


def _cyrillic_rows(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Summary rows of `bench.cyrillic_eval`: per group of its held-out half, recall at each
    scorer's threshold (recall@1 in brackets), qalqan and logic-v2."""
    scorers = data.get("scorers", {})
    q = scorers.get("qalqan", {}).get("heldout", {})
    v2 = scorers.get("logic-v2", {}).get("heldout", {})
    out = []
    for group, figures in q.items():
        if not isinstance(figures, dict) or "recall_at_threshold" not in figures:
            continue
        peer = v2.get(group, {})
        cell = lambda f: f"{pct(f.get('recall_at_threshold'))} ({pct(f.get('recall_at_1'))})" if f else "—"  # noqa: E731
        out.append((f"Cyrillic (held out), {group} ({figures.get('queries', '?')})", [cell(figures), "—", cell(peer), "—"]))
    return out


def write_readme(path: Path | None = None) -> Path:
    results = load_all()
    path = path or RESULTS_DIR / "README.md"
    parts = ["# Qalqan benchmark results", "", "Generated by `python -m bench.run` (`make bench`) from the JSON files in this folder; do not edit by hand.", ""]
    if results:
        any_data = next(iter(results.values()))
        parts.append(f"Machine: {any_data['machine']['nproc']} CPUs; versions: " + ", ".join(f"{k} {v}" for k, v in any_data["versions"].items()) + ".")
        # Sections may come from runs on different processors: speed figures compare only on one.
        by_cpu: dict[str, list[str]] = {}
        for section, data in results.items():
            machine = data.get("machine") or {}
            by_cpu.setdefault(str(machine.get("cpu") or "not recorded"), []).append(f"{section} ({str(data.get('date', ''))[:10]})")
        parts.append("Processor per section (run date): " + "; ".join(f"{cpu}: {', '.join(sorted(secs))}" for cpu, secs in sorted(by_cpu.items())) + ".")
        readers = {str(r["list_reader"]) for r in results.values() if r.get("list_reader")}
        if readers:
            parts.append(f"UN list read with: {', '.join(sorted(readers))}.")
        parts += ["", "## Summary (side by side, same run per section)", "", _summary(results), ""]
    parts += ["## Method", "", METHOD, "The monitoring benchmark (`python -m bench.monitor`, also run by `make bench`) writes "
              "[monitoring.md](monitoring.md).", "", "## Sections", ""]
    for section in ORDER:
        if section in results:
            data = results[section]
            parts.append(section_table(section, data))
            parts.append("")
            parts.append(f"_`{data['command']}`, {data['date']}, {data['seconds']} s._")
            parts.append("")
    path.write_text("\n".join(parts), encoding="utf-8")
    if results and path == RESULTS_DIR / "README.md":
        quote_in_project_readme(_summary(results))
    return path


#: The project README quotes the summary table between these markers; `make bench` refreshes it.
SUMMARY_START = "<!-- bench-summary: start -->"
SUMMARY_END = "<!-- bench-summary: end -->"


def quote_in_project_readme(table: str, readme: Path | None = None) -> None:
    """Replace the block between the markers in the project README with the summary table."""
    readme = readme or RESULTS_DIR.parents[1] / "README.md"
    if not readme.exists():
        return
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(SUMMARY_START), text.find(SUMMARY_END)
    if start < 0 or end < start:
        return
    block = f"{SUMMARY_START}\n{table}\n\nFrom `make bench` (`python -m bench.run`); details in bench/results/README.md.\n{SUMMARY_END}"
    readme.write_text(text[:start] + block + text[end + len(SUMMARY_END) :], encoding="utf-8")
