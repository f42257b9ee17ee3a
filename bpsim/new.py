"""`bpsim new`: a commented scenario file from a few answers, with defaults per kind of system.

Each kind of system is one of the handbook's real-world cases and takes its defaults from the
bundled scenario of the same name, so the numbers a learner starts from are ones a lesson has
already explained. `scenario_toml` writes every key with a comment in the current language;
what the questions do not cover (seed, duration, timeouts) comes from the bundled scenario.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeVar

import typer

from bpsim.errors import BpsimError
from bpsim.i18n import t
from bpsim.loader import load_scenario
from bpsim.scenario import Burst, Policy, Scenario

__all__ = ["Kind", "Answers", "defaults", "ask", "scenario_toml"]


class Kind(StrEnum):
    """The kinds of system `bpsim new` knows, each the name of a bundled scenario."""

    WEBHOOKS = "webhooks"
    API_FANOUT = "api-fanout"
    BACKGROUND_JOBS = "background-jobs"
    INGEST_BURST = "ingest-burst"
    REALTIME_LATEST = "realtime-latest"


Rate = float | Literal["unlimited"]
Choice = TypeVar("Choice", bound=StrEnum)

_COMMENT_COLUMN = 28


@dataclass(frozen=True, slots=True)
class Answers:
    """What `bpsim new` asks about the system to simulate."""

    kind: Kind
    rate: Rate
    burst_rate: float | None
    """The rate during a burst, or None for no burst."""
    maxsize: int
    workers: int
    concurrency: int
    """The Semaphore size; 0 for no limit."""
    service_mean: float
    policy: Policy


def defaults(kind: Kind) -> Answers:
    """The answers the bundled scenario of this kind would give."""
    base = load_scenario(kind.value)
    bursts = base.producer.bursts
    return Answers(
        kind=kind,
        rate=base.producer.rate,
        burst_rate=bursts[0].rate if bursts else None,
        maxsize=base.queue.maxsize,
        workers=base.workers.count,
        concurrency=base.downstream.most_in_flight or 0,
        service_mean=base.workers.service.mean,
        policy=base.queue.policy,
    )


def ask(kind: Kind | None) -> Answers:
    """Ask about the system one question at a time, offering the defaults of its kind.

    An answer that is not valid is asked again, with what to enter instead. The questions go to
    stderr, so that `bpsim new - > my.toml` puts only the scenario into the file. Raises
    BpsimError when stdin ends, or gives an endless line or answer after answer that is wrong.
    """
    _say(t("new.intro"))
    if kind is None:
        kind = _prompt(t("new.ask_kind"), Kind.WEBHOOKS.value, _choice(Kind))
    given = defaults(kind)
    rate = _prompt(t("new.ask_rate"), _shown(given.rate), _rate("new.bad_rate"))
    burst_rate = None
    if rate != "unlimited" and _prompt(t("new.ask_burst"), "y" if given.burst_rate is not None else "n", _yes_no):
        default = given.burst_rate or 5 * rate
        burst_rate = _prompt(t("new.ask_burst_rate"), _shown(default), _number("new.bad_rate"))
    return Answers(
        kind=kind,
        rate=rate,
        burst_rate=burst_rate,
        maxsize=_prompt(t("new.ask_maxsize"), str(given.maxsize), _whole(0)),
        workers=_prompt(t("new.ask_workers"), str(given.workers), _whole(1)),
        concurrency=_prompt(t("new.ask_concurrency"), str(given.concurrency), _whole(0)),
        service_mean=_prompt(t("new.ask_service"), _shown(given.service_mean), _number("new.bad_positive")),
        policy=_prompt(t("new.ask_policy"), given.policy.value, _choice(Policy)),
    )


# An answer is a short line; stdin may be /dev/zero (an endless line) or `yes x` (endless wrong
# answers): both end with one clear line instead of reading gigabytes or asking forever.
_MAX_ANSWER = 200
_MAX_TRIES = 5

Answer = TypeVar("Answer")


def _prompt(question: str, default: str, parse: Callable[[str], Answer]) -> Answer:
    for _ in range(_MAX_TRIES):
        _say(f"{question} [{default}]: ", end="")
        line = sys.stdin.readline(_MAX_ANSWER + 1)
        if not sys.stdin.isatty():
            _say("")  # a terminal echoes the user's Enter; piped answers do not
        if not line:
            raise BpsimError(t("new.no_answer"))
        if len(line) > _MAX_ANSWER:
            raise BpsimError(t("new.answer_too_long", most=_MAX_ANSWER))
        try:
            return parse(line.strip() or default)
        except typer.BadParameter as error:
            _say(f"Error: {error.message}")
    raise BpsimError(t("new.too_many_tries", tries=_MAX_TRIES))


def _say(text: str, end: str = "\n") -> None:
    sys.stderr.write(text + end)
    sys.stderr.flush()


def _yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer in ("y", "yes"):
        return True
    if answer in ("n", "no"):
        return False
    raise typer.BadParameter(t("new.bad_yes_no"))


def _shown(value: Rate) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _choice(choices: type[Choice]) -> Callable[[str], Choice]:
    def parse(text: str) -> Choice:
        try:
            return choices(text.strip())
        except ValueError:
            raise typer.BadParameter(t("new.bad_choice", choices=", ".join(choices))) from None

    return parse


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise typer.BadParameter(t("new.bad_whole", minimum=minimum))
        return value

    return parse


def _number(problem: str) -> Callable[[str], float]:
    """A parser of positive finite numbers; `problem` says what to enter."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise typer.BadParameter(t(problem))
        return value

    return parse


def _rate(problem: str) -> Callable[[str], Rate]:
    """A parser of positive finite numbers or "unlimited"; `problem` says what to enter."""
    number = _number(problem)

    def parse(text: str) -> Rate:
        return "unlimited" if text.strip() == "unlimited" else number(text)

    return parse


def scenario_toml(answers: Answers, path: str | None) -> str:
    """A valid scenario file for `answers`, every key explained by a comment.

    `path` is where it will be written, for the "run it" line at the top (None: not known).
    """
    base = load_scenario(answers.kind)
    run = t("new.file.run", path=path) if path is not None else t("new.file.run_unnamed")
    lines = [
        f"# {t('new.file.header', kind=answers.kind)}",
        f"# {run}",
        "",
        # Text values can be long (and wide, in Korean): their comments go on the line above.
        f"# {t('new.file.name')}",
        f"name = {_toml(t('new.file.title', kind=answers.kind))}",
        f"# {t('new.file.description')}",
        f"description = {_toml(_description(answers))}",
        f"# {t('new.file.lesson')}",
        'lesson = ""',
        _key("seed", base.seed, t("new.file.seed")),
        _stop(answers, base),
        "",
        "[producer]",
        _key("rate", answers.rate, t("new.file.rate")),
        _key("arrivals", base.producer.arrivals, t("new.file.arrivals")),
    ]
    burst = _burst(answers, base)
    if burst is not None:
        value = f"[ {{ at = {burst.at!r}, duration = {burst.duration!r}, rate = {burst.rate!r} }} ]"
        lines.append(_raw("bursts", value, t("new.file.bursts")))
    lines += [
        "",
        "[queue]",
        _key("maxsize", answers.maxsize, t("new.file.maxsize")),
        _key("policy", answers.policy.value, t(f"new.file.policy_{answers.policy.name.lower()}")),
    ]
    service = f'{{ distribution = "exponential", mean = {answers.service_mean!r} }}'
    lines += [
        "",
        "[workers]",
        _key("count", answers.workers, t("new.file.count")),
        _raw("service", service, t("new.file.service")),
        "",
        "[downstream]",
    ]
    if answers.concurrency:
        lines.append(_key("concurrency", answers.concurrency, t("new.file.concurrency", n=answers.concurrency)))
    else:
        lines.append(f"# {t('new.file.no_concurrency')}")
    if base.downstream.timeout is not None:
        lines.append(_key("timeout", base.downstream.timeout, t("new.file.timeout", seconds=base.downstream.timeout)))
    lines += ["", "[shutdown]", _key("mode", "graceful", t("new.file.shutdown")), "", f"# {t('new.file.more')}"]
    return "\n".join(lines) + "\n"


def _description(answers: Answers) -> str:
    rate = t("new.file.all_at_once") if answers.rate == "unlimited" else t("new.file.per_second", rate=answers.rate)
    return t(
        "new.file.summary",
        rate=rate,
        maxsize=answers.maxsize,
        workers=answers.workers,
        policy=answers.policy.value,
    )


def _stop(answers: Answers, base: Scenario) -> str:
    # "unlimited" produces without pause and so needs a number of items; so does a kind that
    # counts items (a fan-out batch). Everything else produces for the bundled duration.
    if answers.rate == "unlimited" or base.items is not None:
        return _key("items", base.items or 1000, t("new.file.items"))
    return _key("duration", base.duration, t("new.file.duration"))


def _burst(answers: Answers, base: Scenario) -> Burst | None:
    """The burst at the bundled scenario's time, or a tenth of the run from a third of the way in."""
    if answers.burst_rate is None or answers.rate == "unlimited":
        return None
    if base.producer.bursts:
        at, duration = base.producer.bursts[0].at, base.producer.bursts[0].duration
    else:
        span = base.duration if base.duration is not None else (base.items or 1000) / answers.rate
        at, duration = round(span / 3, 1), round(span / 10, 1) or 0.1
    return Burst(at=at, duration=duration, rate=answers.burst_rate)


def _key(key: str, value: object, comment: str) -> str:
    return _raw(key, _toml(value), comment)


def _raw(key: str, value: str, comment: str) -> str:
    assignment = f"{key} = {value}"
    return f"{assignment:<{_COMMENT_COLUMN}}# {comment}" if len(assignment) < _COMMENT_COLUMN else f"{assignment}   # {comment}"


def _toml(value: object) -> str:
    """A TOML value: JSON's string escapes are valid TOML basic-string escapes."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
