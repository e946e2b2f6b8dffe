"""Screening a file over a Ray cluster: `qalqan screen --engine ray [--address ...]`.

A bank re-screening a hundred million customers outgrows the cores of one machine. `RayEngine`
is a `qalqan.batch.Engine`: the compiled Screener is put into Ray's object store once
(`ray.put`), and each chunk of input rows (the same chunks `batch.screen_file` makes) is
screened by a remote task that renders it with `batch.render_chunk`, the very function the local
engine runs. The driver takes the results back in submission order with the same bounded window
as the local engine, and writes them as they come: same order, same scores, the same bytes.

Each Ray worker process fetches and unpickles the Screener on its first task and keeps it for
the rest of the run (keyed by the object's id), instead of paying the unpickling on every task.
Ray is an optional dependency (`pip install 'qalqan[ray]'`); on a cluster every node needs
qalqan installed in the same version, since the tasks import it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from qalqan.batch import CHUNKS_IN_FLIGHT, Rendered, Run, Settings, ordered_results, render_chunk
from qalqan.matching.screener import Screener
from qalqan.sources.queries import Record

# In a Ray worker process: the Screener of the object last fetched, by the object's id.
_WORKER_SCREENER: tuple[str, Screener] | None = None


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be joined or started; says which."""


def require_ray() -> Any:
    """The `ray` module; RayUnavailable saying how to install it where it is missing."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable("the Ray engine needs Ray: pip install 'qalqan[ray]'") from None
    return ray


def _screener_from(ref: Any) -> Screener:
    """The Screener behind `ref` in this worker, fetched from the object store once."""
    global _WORKER_SCREENER
    key = ref.hex()
    if _WORKER_SCREENER is None or _WORKER_SCREENER[0] != key:
        _WORKER_SCREENER = (key, require_ray().get(ref))
    return _WORKER_SCREENER[1]


def screen_partition(refs: list[Any], records: list[Record], settings: Settings) -> Rendered:
    """The body of one Ray task: one chunk of rows screened and rendered. The Screener's
    reference comes inside a list, so Ray hands it over as a reference (fetched once per worker
    by `_screener_from`) instead of resolving it for every task."""
    return render_chunk(_screener_from(refs[0]), records, settings)


class _Pending:
    """A submitted task, as `batch.ordered_results` takes it: `get()` waits for the result."""

    def __init__(self, ray: Any, ref: Any):
        self._ray, self._ref = ray, ref

    def get(self) -> Rendered:
        result: Rendered = self._ray.get(self._ref)
        return result


@dataclass(frozen=True, slots=True)
class RayEngine:
    """Screens the chunks as Ray tasks. `address` joins an existing cluster (`ray.init(address=
    ...)`: "auto", "ray://host:10001", "host:6379"); without it, a Ray already initialised in this
    process is used, or else a local one is started with `num_cpus` CPUs (default: all) and
    stopped at the end."""

    address: str | None = None
    num_cpus: int | None = None

    @contextmanager
    def open(self, screener: Screener, settings: Settings) -> Iterator[Run]:
        ray = require_ray()
        started = False
        if not ray.is_initialized():
            # The driver's stdout may be the output file: worker output must not reach it.
            options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
            if self.address is not None:
                options["address"] = self.address
            else:
                options.update(include_dashboard=False, num_cpus=self.num_cpus)
            try:
                ray.init(**options)
            except Exception as exc:  # no cluster at the address, a version mismatch, no resources
                where = f"join the Ray cluster at {self.address}" if self.address else "start a local Ray"
                raise RayUnavailable(f"could not {where}: {type(exc).__name__}: {exc}") from None
            started = True
        try:
            ref = ray.put(screener)
            task = ray.remote(num_cpus=1)(screen_partition)
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))

            def submit(chunk: list[Record]) -> _Pending:
                return _Pending(ray, task.remote([ref], chunk, settings))

            yield lambda chunks: ordered_results(submit, chunks, cpus * (1 + CHUNKS_IN_FLIGHT))
        finally:
            if started:
                ray.shutdown()
