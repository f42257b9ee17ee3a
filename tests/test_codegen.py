"""`bpsim code`: a scenario as a plain asyncio script that ends every item as `bpsim run` does.

The round trip is the promise: the generated script, run on bpsim's virtual clock, prints the
counts of `bpsim run SCENARIO --json -`'s "items" exactly, for every bundled scenario the
generator supports and for variants that reach each piece it writes (timeouts, drops, stale
items, shutdown deadlines, the closed-loop producer, every distribution).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from bpsim.cli import app
from bpsim.clock import VirtualTimeLoop
from bpsim.codegen import program
from bpsim.library import bundled_scenarios
from bpsim.outcomes import OUTCOMES
from tests.golden import assert_golden
from tests.helpers import cli_runner

SUPPORTED = [
    "api-fanout",
    "background-jobs",
    "burst",
    "graceful-vs-immediate",
    "handbook",
    "handbook-race",
    "ingest-burst",
    "realtime-latest",
    "slow-downstream",
    "textbook",
    "unbounded",
    "webhooks",
]
UNSUPPORTED = {  # the bundled scenarios `bpsim code` refuses, and the keys it names
    "adaptive-lifo": 'queue.discipline = "adaptive-lifo"',  # fifo and lifo it writes
    "aimd-knee": "downstream.concurrency, downstream.contention, downstream.coherency",
    "codel-standing": 'queue.discipline = "codel"',
    "congestion-collapse": "downstream.contention, downstream.coherency",
    "gradient-knee": "downstream.concurrency, downstream.contention, downstream.coherency",
    "rate-limited-api": "downstream.rate_limit",
    "rate-limited-retry": "downstream.rate_limit, retry",
    "rate-limited-throttle": "downstream.rate_limit, throttle",
    "retry-jitter": "downstream.rate_limit, downstream.outages, retry",
    "retry-storm": "downstream.capacity, retry",
    "retry-storm-breaker": "downstream.capacity, retry, breaker",
    "retry-storm-budget": "downstream.capacity, retry",
    "wasted-work": "downstream.capacity",
}

# Variants of supported scenarios, each reaching a piece of the script the bundled ones do not.
VARIANTS = [
    ("graceful-vs-immediate", ["shutdown.mode=immediate", "shutdown.at=12"]),  # abandoned queued and in-worker
    ("graceful-vs-immediate", ["shutdown.at=5"]),  # the deadline passes while the producer produces
    ("burst", ["queue.put_timeout=0.05"]),  # timed out in put
    ("burst", ["queue.max_age=0.3"]),  # dropped stale
    ("burst", ["slo=0.2"]),  # handled on time
    ("burst", ["producer.arrivals=constant", "producer.start=11"]),  # constant arrivals, a burst, a late start
    ("burst", ['workers.service={distribution="lognormal", median=0.05, p99=0.5}']),
    ("burst", ['workers.service={distribution="pareto", scale=0.05, shape=1.5}']),
    ("burst", ['workers.service={distribution="weibull", scale=0.1, shape=0.7}']),
    ("handbook", ['workers.service={distribution="uniform", low=0.0, high=0.3}']),
    ("unbounded", ['producer.arrivals="after-put"', 'producer.gaps="constant"', "producer.start=3"]),
    ("burst", ['producer.arrivals="after-put"', "producer.bursts=[]", "shutdown.at=10", "queue.put_timeout=0.01"]),
    ("handbook", ['producer.arrivals="after-put"', "producer.rate=20"]),  # closed loop with a count of items
    ("api-fanout", ["producer.start=2", 'shutdown.mode="immediate"', "shutdown.at=10"]),  # never sent
    ("webhooks", ["queue.policy=drop-oldest", "shutdown.at=30", "shutdown.await_producer=false"]),
    ("realtime-latest", ["producer.bursts=[{at=0.0, duration=5.0, rate=200.0}, {at=5.0, duration=1.0, rate=400.0}]"]),
    ("textbook", ["duration=300"]),
    ("webhooks", ['queue.discipline="lifo"']),  # asyncio.LifoQueue: newest first
    ("burst", ['queue.discipline="lifo"', "queue.max_age=0.3", 'shutdown.mode="immediate"', "shutdown.at=20"]),
]

ROUND_TRIPS = [(name, []) for name in SUPPORTED] + VARIANTS


def bpsim(*args: str) -> Any:
    return cli_runner().invoke(app, list(args))


def generated(name: str, overrides: list[str] = []) -> str:
    return program(name, overrides)


def run_on_virtual_time(text: str, verbose: bool = False) -> str:
    """What the script prints when its main() runs on bpsim's VirtualTimeLoop (not as __main__)."""
    return run_and_time(text, verbose)[0]


def run_and_time(text: str, verbose: bool = False) -> tuple[str, float]:
    """What the script prints on bpsim's VirtualTimeLoop, and the simulated second main() returned at."""
    module = types.ModuleType("generated")
    exec(compile(text, "generated.py", "exec", dont_inherit=True), module.__dict__)
    module.VERBOSE = verbose  # as `-v` on its command line would set it
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(module.main())
        ended = runner.get_loop().time()
    return printed.getvalue(), ended


def tally(printed: str) -> dict[str, int]:
    """The script's closing counts: `  dropped queue-full      12` -> {"dropped queue-full": 12}."""
    counts = {}
    for line in printed.splitlines():
        if line.startswith("  "):
            *key, value = line.split()
            counts[" ".join(key)] = int(value)
    return counts


def bpsim_json(name: str, overrides: list[str] = []) -> dict[str, Any]:
    """What `bpsim run NAME --set ... --json -` writes."""
    sets = [part for override in overrides for part in ("--set", override)]
    result = bpsim("run", name, *sets, "--json", "-")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def bpsim_counts(name: str, overrides: list[str] = []) -> dict[str, int]:
    """`bpsim run NAME --json -`'s "items", by the script's names ("dropped queue-full")."""
    return counts_of(bpsim_json(name, overrides)["items"])


def counts_of(items: dict[str, Any]) -> dict[str, int]:
    """A result's JSON "items" by the script's names: totals, and "outcome reason" per reason."""
    counts = {key: items[key] for key in ("produced", "never_sent", "unfinished", "handled_on_time") if key in items}
    for outcome in OUTCOMES:
        if outcome.breakdown is None:
            counts[outcome.name] = items[outcome.name]
        else:
            counts |= {f"{outcome.name} {reason}": n for reason, n in items[outcome.breakdown].items()}
    return counts


def assert_same_counts(script_counts: dict[str, int], counts: dict[str, int]) -> None:
    """Every count the script prints is bpsim's, and every count it leaves out is 0 in bpsim's."""
    assert script_counts == {key: counts[key] for key in script_counts}
    assert {key: n for key, n in counts.items() if n and key not in script_counts} == {}


def test_every_bundled_scenario_is_either_supported_or_refused():
    assert sorted([*SUPPORTED, *UNSUPPORTED]) == sorted(path.stem for path in bundled_scenarios())


@pytest.mark.parametrize("name", SUPPORTED)
def test_the_script_ends_every_item_as_bpsim_run_does(name: str) -> None:
    counts = tally(run_on_virtual_time(generated(name)))
    assert counts["produced"] > 0
    assert_same_counts(counts, bpsim_counts(name))


@pytest.mark.parametrize(("name", "overrides"), VARIANTS, ids=[" ".join([n, *o]) for n, o in VARIANTS])
def test_variants_reach_every_piece_of_the_script_with_the_same_counts(name: str, overrides: list[str]) -> None:
    counts = tally(run_on_virtual_time(generated(name, overrides)))
    assert_same_counts(counts, bpsim_counts(name, overrides))


@pytest.mark.parametrize(("name", "overrides"), ROUND_TRIPS, ids=[" ".join([n, *o]) for n, o in ROUND_TRIPS])
def test_the_script_ends_at_the_same_simulated_instant(name: str, overrides: list[str]) -> None:
    # Not only the counts: the last thing happens at the same second, to the last bit, so the
    # script's events come in bpsim's order and at bpsim's times (the JSON's "duration").
    _, ended = run_and_time(generated(name, overrides))
    assert ended == bpsim_json(name, overrides)["duration"]


def test_the_variants_reach_every_end_the_script_can_count():
    reached = set()
    for name, overrides in VARIANTS:
        reached |= {key for key, n in tally(run_on_virtual_time(generated(name, overrides))).items() if n}
    assert reached == {
        "produced", "never_sent", "handled", "handled_on_time", "dropped queue-full", "dropped evicted",
        "dropped stale", "timed_out put", "timed_out downstream", "rejected_at_shutdown", "abandoned queued",
        "abandoned in-worker",
    }  # fmt: skip




@pytest.mark.parametrize(("name", "overrides"), ROUND_TRIPS, ids=[" ".join([n, *o]) for n, o in ROUND_TRIPS])
def test_bpsim_run_of_the_script_gives_the_scenarios_results(name: str, overrides: list[str], tmp_path: Path) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(generated(name, overrides), encoding="utf-8")
    result = bpsim("run", str(path), "--json", "-")
    assert result.exit_code == 0, result.output
    program = json.loads(result.stdout)
    scenario = bpsim_json(name, overrides)
    printed = "".join(f"{line['text']}\n" for line in program["printed"])
    assert_same_counts(tally(printed), counts_of(scenario["items"]))
    # What the probes measured on the script's own Queue and Semaphore is what bpsim's ledger
    # measured on its pipeline, to the last bit: the same events at the same simulated times.
    (queue,) = program["queues"]
    assert program["ended_at"] == scenario["duration"]
    assert (queue["put"], queue["max_qsize"]) == (scenario["queue"]["entered"], scenario["queue"]["max_qsize"])
    assert queue["mean_qsize"] == scenario["queue"]["mean_qsize"]
    assert queue["putters_blocked_seconds"] == scenario["producer"]["blocked_seconds"]
    if program["semaphores"]:
        assert program["semaphores"][0]["max_held"] == scenario["downstream"]["max_in_flight"]


def test_the_handbook_race_is_reproduced():
    # join() returns before the producer's first put: the queue shuts down, 1 rejected, 5 never sent.
    text = generated("handbook-race")
    assert "await queue.join()  # the handbook's race" in text and "await producing" not in text
    assert tally(run_on_virtual_time(text)) == {"produced": 1, "never_sent": 5, "handled": 0, "rejected_at_shutdown": 1}


# What CPython 3.13 prints for the handbook's example with the shutdown fixed (the producer
# awaited before queue.join()), captured from the real interpreter in real time.
HANDBOOK_FIXED = """\
produce 0 qsize before: 0
enqueued 0 qsize after: 1
produce 1 qsize before: 1
enqueued 1 qsize after: 2
produce 2 qsize before: 2
enqueued 2 qsize after: 1
produce 3 qsize before: 1
enqueued 3 qsize after: 2
produce 4 qsize before: 2
enqueued 4 qsize after: 2
produce 5 qsize before: 2
worker-0 handled 0
worker-1 handled 1
enqueued 5 qsize after: 1
worker-2 handled 2
worker-0 handled 3
worker-1 handled 4
worker-2 handled 5
worker-0 shutdown
worker-1 shutdown
worker-2 shutdown
"""


def test_the_handbook_script_with_v_prints_what_the_handbooks_example_prints():
    printed = run_on_virtual_time(generated("handbook"), verbose=True)
    steps, report = printed.split("Where the items ended:\n")
    assert steps == HANDBOOK_FIXED
    assert tally(report) == {"produced": 6, "handled": 6}
    assert "produce 0" not in run_on_virtual_time(generated("handbook"))  # quiet without -v


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_scenarios_are_refused_in_one_line_naming_the_keys(name: str) -> None:
    result = bpsim("code", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{name}.toml: {UNSUPPORTED[name]}: bpsim code cannot write this as a script yet "
        f"(bpsim code --help lists what it can); run the scenario itself: bpsim run {name}\n"
    )


def test_the_burst_script_changes_only_deliberately():
    result = bpsim("code", "burst")
    assert result.exit_code == 0
    assert_golden("code_burst", result.stdout)


def test_the_script_uses_only_the_standard_library_and_the_queue_backport():
    text = generated("burst", ['workers.service={distribution="lognormal", median=0.05, p99=0.5}', "shutdown.at=20"])
    imports = {line.split()[1] for line in text.splitlines() if line.lstrip().startswith(("import ", "from "))}
    assert imports == {"asyncio", "random", "sys", "math", "collections", "collections.abc", "dataclasses", "statistics", "backports.asyncio.queues", "itertools"}
    assert imports - {"backports.asyncio.queues"} <= sys.stdlib_module_names | {"collections.abc"}


def test_what_a_scenario_does_not_use_is_not_in_its_script():
    text = generated("handbook")
    for absent in ("asyncio.timeout", "random", "MAX_AGE", "stop_now", "QueueFull", "DURATION"):
        assert absent not in text
    assert "async with limiter:" in text and "ITEMS = 6" in text and "yield 0.15" in text


def test_set_and_seed_change_the_script_and_its_header():
    result = bpsim("code", "burst", "--set", "queue.maxsize=5", "--seed", "3")
    assert result.exit_code == 0
    assert "MAXSIZE = 5  #" in result.stdout and "SEED = 3  #" in result.stdout
    assert "#   bpsim run burst --set queue.maxsize=5 --seed 3 --json -\n" in result.stdout
    counts = tally(run_on_virtual_time(result.stdout))
    bpsim_run = bpsim_counts("burst", ["queue.maxsize=5", "seed=3"])
    assert_same_counts(counts, bpsim_run)


def test_a_user_text_cannot_escape_its_comment(tmp_path: Path):
    scenario = (Path(__file__).parent.parent / "scenarios" / "handbook.toml").read_text(encoding="utf-8")
    path = tmp_path / "odd.toml"
    path.write_text('name = "x\\nimport os; os.exit(1) \\"\\"\\" \\u2028 y"\n' + scenario.split("\n", 1)[1], encoding="utf-8")
    text = program(str(path))
    compile(text, "odd.py", "exec")
    assert "\nimport os" not in text


def test_o_writes_the_file_and_says_how_to_run_it(tmp_path: Path):
    target = tmp_path / "burst.py"
    result = bpsim("code", "burst", "-o", str(target))
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == bpsim("code", "burst").stdout
    # In a terminal `bpsim run` paces a program at its own pace under the dashboard: at once only with --speed max.
    assert result.stdout == (
        f"✓ Wrote {target}. Run it: bpsim run {target} (virtual time; --speed max for at once) "
        f"or python3 {target} (real time)\n"
    )


def test_o_never_replaces_a_script_unasked_nor_the_scenario(tmp_path: Path):
    target = tmp_path / "mine.py"
    target.write_text("my edits\n", encoding="utf-8")
    refused = bpsim("code", "burst", "-o", str(target))
    assert refused.exit_code == 2
    assert refused.stderr == f"{target} already exists; pass --force to overwrite it, or give another FILE\n"
    assert target.read_text(encoding="utf-8") == "my edits\n"
    assert bpsim("code", "burst", "-o", str(target), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("# Burst traffic\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text((Path(__file__).parent.parent / "scenarios" / "burst.toml").read_text(encoding="utf-8"))
    before = scenario.read_text(encoding="utf-8")
    over_input = bpsim("code", str(scenario), "-o", str(scenario), "--force")
    assert over_input.exit_code == 2 and "is the scenario file this command reads" in over_input.stderr
    assert scenario.read_text(encoding="utf-8") == before


def test_o_dash_is_stdout_and_a_missing_folder_is_one_line(tmp_path: Path):
    assert bpsim("code", "handbook", "-o", "-").stdout == bpsim("code", "handbook").stdout
    missing = tmp_path / "no-such-folder" / "x.py"
    result = bpsim("code", "handbook", "-o", str(missing))
    assert result.exit_code == 2
    assert result.stderr.startswith(str(missing)) and len(result.stderr.splitlines()) == 1
    assert not missing.parent.exists()


def test_o_a_device_is_written_into_and_not_offered_to_run(tmp_path: Path):
    result = bpsim("code", "burst", "-o", "/dev/null")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""  # as quiet as `-`: /dev/null is no script to run


def test_o_a_directory_suggests_a_py_name_in_it(tmp_path: Path):
    result = bpsim("code", "burst", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path}: is a directory; give the script a file name, e.g. {tmp_path}/burst.py\n"
    assert list(tmp_path.iterdir()) == []


def test_o_without_py_says_bpsim_run_needs_the_py_name(tmp_path: Path):
    target = tmp_path / "burst"
    result = bpsim("code", "burst", "-o", str(target))
    assert result.exit_code == 0 and target.read_text(encoding="utf-8").startswith("# Burst traffic\n")
    assert result.stdout == (
        f"✓ Wrote {target}. Run it: python3 {target} (real time); "
        f"bpsim run needs a .py name: rename it {target}.py for the virtual clock\n"
    )


PROGRAM_GIVEN_AS_SCENARIO = [
    ["compare", "seed.py", "burst", "--no-live"],
    ["compare", "burst", "seed.py", "--no-live"],
    ["sweep", "seed.py", "--param", "queue.maxsize=1..3"],
    ["theory", "seed.py"],
    ["code", "seed.py"],
    ["validate", "seed.py"],
]


@pytest.mark.parametrize("args", PROGRAM_GIVEN_AS_SCENARIO, ids=" ".join)
def test_a_python_program_given_to_a_scenario_command_is_pointed_to_bpsim_run(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.py").write_text("import asyncio\n\nasync def main():\n    pass\n\nasyncio.run(main())\n", encoding="utf-8")
    result = bpsim(*args)
    assert result.exit_code == 2
    assert result.stdout + result.stderr == (  # validate lists its problems on stdout
        "seed.py: is a Python program, not a scenario; only `bpsim run seed.py` runs it (on the virtual clock); "
        "the other commands read scenarios (.toml)\n"
    )
    korean = bpsim("--lang", "ko", *args)
    assert korean.exit_code == 2
    said = korean.stdout + korean.stderr
    assert said.startswith("seed.py: 시나리오가 아니라 Python 프로그램입니다. 이것은 `bpsim run seed.py`로만")
    assert len(said.splitlines()) == 1


def test_a_scenario_with_a_mistake_gets_the_loaders_line():
    result = bpsim("code", "burst", "--set", "queue.maxsize=x")
    assert result.exit_code == 2
    assert result.stderr == "--set queue.maxsize=x: queue.maxsize: must be a whole number, not 'x'\n"


def code_of(script: str) -> str:
    """The script's syntax tree without its words: every string constant (docstrings, messages) blank."""
    tree = ast.parse(script)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def test_with_lang_ko_the_script_speaks_korean_and_counts_the_same():
    overrides = ["shutdown.at=12", "queue.max_age=2", "slo=1"]
    result = bpsim("--lang", "ko", "code", "graceful-vs-immediate", *(part for o in overrides for part in ("--set", o)))
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("# Graceful shutdown과 즉시 shutdown\n")  # the scenario's [ko] name
    assert "MAX_AGE = 2.0  # 이보다 오래 기다린 item은 worker가 처리하지 않고 버립니다\n" in text
    assert '    print("item이 끝난 곳:")\n' in text
    english = bpsim("code", "graceful-vs-immediate", *(part for o in overrides for part in ("--set", o))).stdout
    assert english.startswith("# Graceful vs immediate shutdown\n")
    assert code_of(text) == code_of(english)  # only the words differ
    assert_same_counts(tally(run_on_virtual_time(text)), bpsim_counts("graceful-vs-immediate", overrides))


def test_the_refusal_speaks_korean_too():
    result = bpsim("--lang", "ko", "code", "wasted-work")
    assert result.exit_code == 2
    assert result.stderr.startswith("wasted-work.toml: downstream.capacity: bpsim code는 아직")


def test_the_script_runs_under_plain_python_in_real_time(tmp_path: Path):
    # The handbook's 6 items of 0.15 s through Semaphore(2): about half a second of real time,
    # and with no timeout nothing depends on how late the real clock wakes a task.
    path = tmp_path / "handbook.py"
    path.write_text(generated("handbook"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tally(done.stdout) == {"produced": 6, "handled": 6}
    assert done.stdout.startswith("Where the items ended:\n")


def test_a_short_scenario_in_real_time_accounts_for_every_item(tmp_path: Path):
    # Real time is not exact (a timer fires late), but every produced item still ends somewhere.
    path = tmp_path / "short.py"
    path.write_text(generated("burst", ["duration=0.3", "queue.max_age=0.05"]), encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    counts = tally(done.stdout)
    assert counts["produced"] > 0
    assert counts["produced"] == counts["handled"] + counts["dropped stale"] + counts["timed_out downstream"]
