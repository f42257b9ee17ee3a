"""What `bpsim explain` teaches: the topics in teaching order and the policy-name translator.

Data and lookups, no Rich and no engine: the sentences live in `bpsim/locale/<lang>/explain.toml` and
`policies.toml`; `bpsim.render.explain` draws them. The identifiers below (`dropHead`,
`BoundedChannelFullMode`...) are spelled exactly as each ecosystem spells them, so they are the
same in every language and stay out of the catalogues.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bpsim.errors import BpsimError
from bpsim.i18n import t

__all__ = [
    "TOPICS",
    "TOPIC_FIELDS",
    "USL_EXAMPLE",
    "USL_CALLS",
    "POLICIES_TOPIC",
    "ECOSYSTEMS",
    "Name",
    "POLICY_NAMES",
    "TRAPS",
    "ADAPTIVE_LIBRARIES",
    "ADAPTIVE_NAMES",
    "UnknownTopic",
    "topic_names",
    "closest_topic",
    "check_topic",
]

TOPICS: tuple[str, ...] = (
    "backpressure",
    "block",
    "put-timeout",
    "drop-newest",
    "drop-oldest",
    "max-age",
    "codel",
    "semaphore",
    "adaptive",
    "timeout",
    "downstream",
    "retries",
    "breaker",
    "throttle",
    "shutdown",
    "little",
    "your-code",
)
"""Every topic of `bpsim explain`, in the order a learner should read them."""

TOPIC_FIELDS: tuple[str, ...] = ("title", "summary", "body", "code", "try")
"""What the catalogue says about each topic: `explain.<topic>.<field>`."""

USL_EXAMPLE: dict[str, float] = {"contention": 0.02, "coherency": 0.005}
"""The service `bpsim explain downstream` draws (and the congestion-collapse lesson runs)."""

USL_CALLS: tuple[int, ...] = (1, 2, 4, 8, 14, 20, 30, 40)
"""The numbers of calls in service it draws a bar for: up to the knee (14) and far past it."""

POLICIES_TOPIC = "policies"
"""`bpsim explain policies`: the policy-name table rather than a lesson (`policies.toml`)."""

ECOSYSTEMS: dict[str, str] = {
    "akka": "Akka\nStreams",
    "kotlin": "Kotlin\nChannel",
    "dotnet": ".NET\nChannel",
    "rx": "RxJava/\nReactor",
    "rabbitmq": "RabbitMQ",
    "asyncio": "asyncio",
}
"""The libraries in the policy table, by key, with the name they are known by."""


@dataclass(frozen=True, slots=True)
class Name:
    """One ecosystem's spelling of a bpsim policy."""

    code: str
    """Exactly as the ecosystem writes it; empty when it has no such behaviour."""
    note: str | None = None
    """A caveat, as a key of `policies.note` in the catalogue."""


POLICY_NAMES: dict[str, dict[str, Name]] = {
    "block": {
        "akka": Name("backpressure"),
        "kotlin": Name("SUSPEND"),
        "dotnet": Name("Wait"),
        "rx": Name("onBackpressureBuffer", note="rx_buffer"),
        "rabbitmq": Name("", note="rabbitmq_block"),
        "asyncio": Name("await queue.put(x)"),
    },
    "drop-newest": {
        "akka": Name("dropNew"),
        "kotlin": Name("DROP_LATEST"),
        "dotnet": Name("DropWrite"),
        "rx": Name("onBackpressureDrop"),
        "rabbitmq": Name("reject-publish"),
        "asyncio": Name("put_nowait(x)\n→ QueueFull"),
    },
    "drop-oldest": {
        "akka": Name("dropHead"),
        "kotlin": Name("DROP_OLDEST"),
        "dotnet": Name("DropOldest"),
        "rx": Name("DROP_OLDEST"),
        "rabbitmq": Name("drop-head"),
        "asyncio": Name("get_nowait()\nput_nowait(x)"),
    },
    # Not a fourth policy: drop-oldest with maxsize 1 (the table's footnote says so).
    "keep-latest": {
        "akka": Name("conflate"),
        "kotlin": Name("CONFLATED"),
        "dotnet": Name("DropOldest", note="capacity_1"),
        "rx": Name("onBackpressureLatest"),
        "rabbitmq": Name("drop-head", note="max_length_1"),
        "asyncio": Name("Queue(maxsize=1)\n+ drop-oldest"),
    },
}
"""Rows: bpsim's policies (and keep-latest); columns: `ECOSYSTEMS` keys."""

TRAPS: dict[str, str] = {
    "DROP_LATEST": "drop_latest",
    "DropNewest": "dropnewest",
    "dropTail": "droptail",
}
"""Names that mean opposite things in different places -> their key in `policies.trap`.

bpsim refuses them as `queue.policy` (`scenario.AMBIGUOUS_POLICY_NAMES`)."""


ADAPTIVE_LIBRARIES: dict[str, str] = {
    "netflix": "Netflix\nconcurrency-\nlimits",
    "envoy": "Envoy",
    "vector": "Vector",
    "tower": "tower-acc\n(Rust)",
    "facebook": "Facebook\n(Fail at\nScale)",
    "linux": "Linux tc",
    "happy": "happy-\nsimulator",
}
"""The libraries in the adaptive-control table, by key, with the name they are known by."""

ADAPTIVE_NAMES: dict[str, dict[str, Name]] = {
    "aimd": {
        "netflix": Name("AIMDLimit"),
        "vector": Name('request.concurrency\n= "adaptive"', note="vector_arc"),
        "tower": Name("Aimd"),
    },
    "gradient": {
        "netflix": Name("Gradient2Limit"),
        "envoy": Name("adaptive_concurrency", note="envoy_min_rtt"),
        "tower": Name("Gradient2"),
    },
    "codel": {
        "facebook": Name("folly::Codel", note="fail_at_scale_codel"),
        "linux": Name("codel\nfq_codel"),
        "happy": Name("CoDelQueue"),
    },
    "adaptive-lifo": {
        "facebook": Name("adaptive LIFO", note="fail_at_scale_lifo"),
        "happy": Name("AdaptiveLIFO"),
    },
}
"""Rows: bpsim's adaptive limits (`downstream.concurrency.adaptive`) and queue disciplines
(`queue.discipline`); a library missing from a row has no such mechanism of that name. Only names
read in the libraries' own docs or sources, or in research/overload.md's sources: Netflix's
`AIMDLimit.java`/`Gradient2Limit.java`, Envoy's adaptive concurrency filter docs, Vector's
`request.concurrency` docs, tower-acc's docs.rs page, folly's `executors/Codel.h`, the tc-codel
and tc-fq_codel man pages, and Maurer's "Fail at Scale" (ACM Queue, 2015) via overload.md."""


class UnknownTopic(BpsimError, ValueError):
    """`bpsim explain NAME` for a NAME that is not a topic; the message lists the topics."""


def topic_names() -> tuple[str, ...]:
    """Every name `bpsim explain` accepts: the lessons in teaching order, then "policies"."""
    return (*TOPICS, POLICIES_TOPIC)


def _folded(name: str) -> str:
    return re.sub(r"[-_\s]", "", name).lower()


def closest_topic(name: str) -> str | None:
    """The topic a misspelt `name` was surely meant to be ("semaphor" -> "semaphore"), if any.

    A policy topic is suggested only when the policy names agree (`scenario.policy_suggestion`):
    "drop-newst" never gets drop-oldest."""
    from bpsim.scenario import Policy, parse_policy, policy_suggestion

    by_folded = {_folded(topic): topic for topic in topic_names()}
    close = difflib.get_close_matches(_folded(name), list(by_folded), n=1, cutoff=0.6)
    if not close:
        return None
    topic = by_folded[close[0]]
    if topic in Policy._value2member_map_:
        suggestion = policy_suggestion(name)
        if suggestion is None or parse_policy(suggestion) is not Policy(topic):
            return None
    return topic


def check_topic(name: str) -> str:
    """The topic `name` means: a topic in any case or spelling ("Semaphore", "max_age"), or a
    policy's name in any ecosystem ("dropHead" -> "drop-oldest"). Raises UnknownTopic saying
    which topics there are, or why a policy name is ambiguous."""
    from bpsim.scenario import AMBIGUOUS_POLICY_NAMES, parse_policy

    if name in topic_names():
        return name
    for topic in topic_names():
        if _folded(topic) == _folded(name) and _folded(name) not in AMBIGUOUS_POLICY_NAMES:
            return topic
    topics = ", ".join(topic_names())
    try:
        return parse_policy(name).value
    except ValueError as error:
        if _folded(name) in AMBIGUOUS_POLICY_NAMES:
            raise UnknownTopic(t("explain.ui.ambiguous", reason=error)) from None
    close = closest_topic(name)
    if close is None:
        raise UnknownTopic(t("explain.ui.unknown", name=name, topics=topics))
    raise UnknownTopic(t("explain.ui.did_you_mean", name=name, close=close, topics=topics))
