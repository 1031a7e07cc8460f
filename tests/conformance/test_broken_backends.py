"""The conformance kit is itself tested: each deliberately broken backend (a proxy in front of
the real server that breaks one documented rule) makes the kit fail naming that rule, and the
unbroken server passes. Each variant runs only the category that should catch it."""

from __future__ import annotations

import io

import pytest
from broken_backends import BREAKAGES, Breakage, BrokenProxy, NoTokenAccepted

from batch_compute_conformance import RULES, Options, run_conformance
from support.live_server import LiveServer

EXAMPLES = 3


def _run(origin: str, owners: tuple[str, str], category: str, seed: int = 7) -> set[str]:
    options = Options(
        base_url=origin,
        token=owners[0],
        other_token=owners[1],
        only=(category,),
        examples=EXAMPLES,
        seed=seed,
        job_timeout=20.0,
    )
    result = run_conformance(options, out=io.StringIO())
    assert result.exit_code == (1 if result.outcome.failed else 0)
    return result.outcome.broken_rules()


def test_the_variants_cover_fifteen_rules_in_every_category() -> None:
    rules = {breakage.rule for breakage in BREAKAGES}
    categories = {breakage.category for breakage in BREAKAGES}
    assert len(rules) >= 15
    assert categories == {"contract", "lifecycle", "execution", "search", "isolation"}
    assert rules <= set(RULES)


@pytest.mark.parametrize("breakage_type", BREAKAGES, ids=lambda b: b.name.replace(" ", "-"))
def test_kit_catches_broken_backend(
    kit_server: LiveServer, owners: tuple[str, str], breakage_type: type[Breakage]
) -> None:
    if breakage_type is NoTokenAccepted:
        breakage: Breakage = NoTokenAccepted(kit_server.token("kit-default-user"))
    else:
        breakage = breakage_type()
    with BrokenProxy(kit_server.origin, breakage) as proxy:
        broken = _run(proxy.origin, owners, breakage.category)
    assert breakage.rule in broken, (
        f"{breakage.name}: expected {breakage.rule} among the broken rules, got {sorted(broken)}"
    )


@pytest.mark.parametrize("category", ["lifecycle", "execution", "search", "isolation"])
def test_unbroken_server_passes_each_category(
    kit_server: LiveServer, owners: tuple[str, str], category: str
) -> None:
    assert _run(kit_server.origin, owners, category) == set()


def test_an_honest_proxy_passes(kit_server: LiveServer, owners: tuple[str, str]) -> None:
    """The proxy alone breaks nothing, so what the variants break is theirs."""
    with BrokenProxy(kit_server.origin, Breakage()) as proxy:
        assert _run(proxy.origin, owners, "execution") == set()
