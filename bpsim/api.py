"""bpsim from Python, in a script or a notebook: `load`, `run`, `compare`, `sweep`.

    import bpsim
    scenario = bpsim.load("burst", set={"queue.maxsize": 10})
    result = bpsim.run(scenario)
    result.to_dict()     # what `bpsim run --json` writes
    result.to_pandas()   # one row, the columns of `bpsim sweep --csv` (needs pandas)

Each function does what the command of the same name does, headless, and returns its results
rather than printing them. They work where an event loop is already running (Jupyter, or inside
`asyncio.run`): a thread cannot run two event loops at once, so the virtual clock then runs in a
worker thread while the caller waits for it. Nothing here imports Rich or Typer.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bpsim.limits import Limits

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]  # an optional extra, without stubs

    from bpsim.clock import Pacing
    from bpsim.engine import RunResult
    from bpsim.events import Observer
    from bpsim.replications import Replicated
    from bpsim.scenario import Scenario
    from bpsim.variants import Axis, Variant

__all__ = ["Comparison", "Sweep", "compare", "load", "run", "sweep"]

Settings = Mapping[str, Any] | Sequence[str] | None
"""Overrides: `{"queue.maxsize": 10}`, or the command line's own words, `["queue.maxsize=10"]`."""

_T = TypeVar("_T")


def load(name_or_path: str | Path, set: Settings = None, seed: int | None = None) -> Scenario:
    """A scenario from a file or a bundled name, with overrides applied as `--set` applies them.

    `set={"queue.maxsize": 10, "queue.policy": "drop-oldest"}` (values as in TOML: numbers,
    strings, booleans, lists, tables). Raises `bpsim.errors.ScenarioError`, whose text is the
    command line's one-line message, when the file or a value is wrong.
    """
    from bpsim.loader import load_scenario

    return load_scenario(name_or_path, overrides(set), seed)


def run(
    scenario: Scenario | str | Path,
    observers: Sequence[Observer] = (),
    pacing: Pacing | None = None,
    limits: Limits = Limits(),
    *,
    set: Settings = None,
    seed: int | None = None,
    warmup: float | None = None,
) -> RunResult:
    """Run one scenario to the end and return its result (raises `LimitReached` at a limit).

    `scenario` is a `Scenario` or, as for `load`, a file or bundled name (then `set` and `seed`
    apply). The first four parameters are those of `bpsim.engine.run`, which this calls.
    `warmup=S` is `bpsim run --warmup S`: the result's `measured` is the run from S on. A
    warm-up as long as the run's production or longer raises `bpsim.errors.WarmupTooLong` (a
    `ValueError`) with the command line's words, as `compare` and `sweep` do.
    """
    from bpsim import engine
    from bpsim.warmup import check_warmup

    loaded = _scenario(scenario, set, seed)
    check_warmup(warmup, [loaded])
    return _off_the_loop(lambda: engine.run(loaded, observers, pacing, limits, warmup=warmup))


@dataclass(frozen=True, slots=True)
class Comparison:
    """What `compare` returns: the variants, in order, and one result each."""

    variants: list[Variant]
    results: list[RunResult]
    """With replications, each variant's replication 0 (the scenario's own seed)."""
    replications: list[Replicated] | None = None
    """With `replications=N`: each variant's runs, metrics as intervals, difference to the first."""

    def __getitem__(self, label: str) -> RunResult:
        """The result of the variant with this label: `comparison["drop-oldest"]`."""
        for variant, result in zip(self.variants, self.results):
            if variant.label == label:
                return result
        raise KeyError(f"no variant {label!r}; the labels are {', '.join(v.label for v in self.variants)}")

    def to_dict(self) -> list[dict[str, Any]]:
        """What `bpsim compare --json` writes: a list with one `bpsim run --json` object per
        variant (with replications, each with its `replications`)."""
        if self.replications is not None:
            from bpsim.output import finite
            from bpsim.replications import replicated_json

            return [finite(replicated_json(summary)) for summary in self.replications]
        return [result.to_dict() for result in self.results]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per variant: `variant`, then every metric (the columns of `bpsim sweep --csv`;
        with replications, `replications` and each metric's `NAME.mean` and `NAME.half_width`)."""
        from bpsim.sweeps import replicated_rows, rows

        if self.replications is not None:
            return data_frame(replicated_rows(self.replications))
        return data_frame(rows(self.variants, self.results))


@dataclass(frozen=True, slots=True)
class Sweep:
    """What `sweep` returns: the axes, the runs in order, and one result each."""

    axes: list[Axis]
    variants: list[Variant]
    results: list[RunResult]
    """With replications, each point's replication 0 (the scenario's own seed)."""
    replications: list[Replicated] | None = None
    """With `replications=N`: each point's runs and its metrics as intervals."""

    def to_dict(self) -> list[dict[str, Any]]:
        """What `bpsim sweep --json` writes: per run, `bpsim run --json`'s object plus `params`
        (with replications, `replications` too)."""
        from bpsim.output import finite
        from bpsim.sweeps import json_runs, replicated_json_runs

        if self.replications is not None:
            return finite(replicated_json_runs(self.replications))
        return finite(json_runs(self.variants, self.results))

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run, the rows of `bpsim sweep --csv`: `variant`, each varied key, every metric."""
        from bpsim.sweeps import replicated_rows, rows

        if self.replications is not None:
            return data_frame(replicated_rows(self.replications))
        return data_frame(rows(self.variants, self.results))


def compare(
    scenarios_or_variants: str | Path | Sequence[str | Path | Scenario] | Mapping[str, Scenario],
    replications: int | None = None,
    *,
    policy: Sequence[str] = (),
    vary: Mapping[str, Iterable[Any]] | Sequence[str] | None = None,
    set: Settings = None,
    seed: int | None = None,
    jobs: int | None = None,
    warmup: float | None = None,
) -> Comparison:
    """Variants side by side on the same traffic (common random numbers), as `bpsim compare` runs them.

    Either names and files, with `policy` and `vary` as the command's `--policy` and `--vary`
    (`compare("burst", policy=["block", "drop-oldest"])`, `vary={"queue.maxsize": [2, 10, 0]}`),
    or scenarios already loaded: a list (labelled by their names) or a mapping label -> scenario.
    `replications=N` runs each on N seeds over `jobs` processes, as `--replications N` does;
    `warmup=S` leaves the first S simulated seconds out of every metric, as `--warmup S` does.
    """
    from bpsim.engine import Simulation
    from bpsim.errors import BpsimError
    from bpsim.limits import check_expected_items
    from bpsim.variants import Variant, compare_variants
    from bpsim.warmup import check_warmup

    if isinstance(scenarios_or_variants, str | Path):
        scenarios_or_variants = [scenarios_or_variants]
    if isinstance(scenarios_or_variants, Mapping):
        variants = [Variant(label, scenario) for label, scenario in scenarios_or_variants.items()]
    elif all(isinstance(item, str | Path) for item in scenarios_or_variants):
        sources = [str(item) for item in scenarios_or_variants]
        variants = compare_variants(sources, policy, _axes(vary), overrides(set), seed)
    else:
        if policy or vary or set or seed is not None:
            raise BpsimError("compare(): policy, vary, set and seed apply to names and files; pass loaded scenarios alone")
        variants = [Variant(label, scenario) for label, scenario in zip(_labels(scenarios_or_variants), scenarios_or_variants)]  # type: ignore[arg-type]
    if len(variants) < 2:
        raise BpsimError("compare(): nothing to compare; give two or more variants")
    loaded = [variant.scenario for variant in variants]
    labels = [variant.label for variant in variants]
    check_expected_items(loaded, Limits(), labels)
    check_warmup(warmup, loaded)
    if replications is not None:
        summaries = _replicate(variants, replications, paired=True, jobs=jobs, warmup=warmup)
        return Comparison(variants, [summary.results[0] for summary in summaries], summaries)
    results = _off_the_loop(lambda: Simulation(loaded, labels=labels, warmup=warmup).run())
    return Comparison(variants, results)


def sweep(
    scenario: str | Path,
    params: Mapping[str, Iterable[Any] | str] | Sequence[str],
    *,
    policy: Sequence[str] = (),
    set: Settings = None,
    seed: int | None = None,
    jobs: int | None = None,
    replications: int | None = None,
    warmup: float | None = None,
) -> Sweep:
    """Every combination of one or two keys' values, as `bpsim sweep` runs them (over `jobs` processes).

    `params={"queue.maxsize": range(1, 51)}`, or `{"queue.maxsize": "1..50:5"}`, or the
    command's own words, `["queue.maxsize=1..50:5"]`. Results are the same for any `jobs`.
    `replications=N` runs each point on N seeds, as `--replications N` does; `warmup=S` as `--warmup S`.
    """
    from bpsim.sweeps import run_sweep, sweep_variants
    from bpsim.warmup import check_warmup

    axes, variants = sweep_variants(str(scenario), _axes(params), policy, overrides(set), seed)
    check_warmup(warmup, [variant.scenario for variant in variants])
    if replications is not None:
        summaries = _replicate(variants, replications, paired=False, jobs=jobs, warmup=warmup)
        return Sweep(axes, variants, [summary.results[0] for summary in summaries], summaries)
    results = _off_the_loop(lambda: run_sweep(variants, jobs, warmup=warmup))
    return Sweep(axes, variants, results)


def _replicate(
    variants: list[Variant], replications: int, *, paired: bool, jobs: int | None, warmup: float | None
) -> list[Replicated]:
    from bpsim.errors import BpsimError
    from bpsim.i18n import t
    from bpsim.replications import MIN_REPLICATIONS, replicate

    if isinstance(replications, bool) or not isinstance(replications, int) or replications < MIN_REPLICATIONS:
        raise BpsimError(t("errors.replications.too_few", value=replications))
    return _off_the_loop(lambda: replicate(variants, replications, paired=paired, jobs=jobs, warmup=warmup))


# -- helpers -----------------------------------------------------------------------------------------


def overrides(settings: Settings) -> list[str]:
    """`--set` texts for `settings`: `{"queue.maxsize": 10}` -> `["queue.maxsize=10"]`."""
    if settings is None:
        return []
    if isinstance(settings, Mapping):
        return [f"{key}={toml_value(value)}" for key, value in settings.items()]
    if isinstance(settings, str):
        return [settings]
    return list(settings)


def _axes(given: Mapping[str, Iterable[Any] | str] | Sequence[str] | None) -> list[str]:
    """`--vary` / `--param` texts: a list or range of values becomes `KEY=v1,v2,...`; a string is
    kept as written (`"1..50:5"`)."""
    if given is None:
        return []
    if isinstance(given, str):
        return [given]
    if not isinstance(given, Mapping):
        return list(given)
    return [
        f"{key}={values if isinstance(values, str) else ','.join(toml_value(value) for value in values)}"
        for key, values in given.items()
    ]


def toml_value(value: Any) -> str:
    """`value` written as TOML, the way `--set` reads it: 10, 0.5, "block", true, [1, 2], {a = 1}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else "inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(key))} = {toml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Iterable):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as a scenario value (use numbers, strings, booleans, lists or dicts)")


def _scenario(scenario: Scenario | str | Path, settings: Settings, seed: int | None) -> Scenario:
    if isinstance(scenario, str | Path):
        return load(scenario, settings, seed)
    if settings or seed is not None:
        from bpsim.errors import BpsimError

        raise BpsimError("run(): set and seed apply to a name or a file; a loaded scenario is used as it is")
    return scenario


def _labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Labels for loaded scenarios: their names, numbered where two have the same name."""
    names = [scenario.name for scenario in scenarios]
    return [name if names.count(name) == 1 else f"{name} #{index}" for index, name in enumerate(names, start=1)]


def _off_the_loop(call: Callable[[], _T]) -> _T:
    """`call()` here, or in a worker thread when this thread already runs an event loop.

    The virtual clock is an event loop of its own, and a thread runs one loop at a time: inside
    Jupyter (or `asyncio.run`) asyncio.Runner refuses with "cannot be called from a running
    event loop". Signals are only handled in the main thread, so Ctrl-C then interrupts the
    caller's wait, not the run.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bpsim-clock") as worker:
        return worker.submit(call).result()


def data_frame(rows: list[dict[str, Any]]) -> pandas.DataFrame:
    """A pandas DataFrame of `rows`; an ImportError that says how to install pandas if it is missing."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas() needs pandas, an optional extra: pip install 'bpsim[pandas]' (or pip install pandas)") from None
    return pandas.DataFrame(rows)
