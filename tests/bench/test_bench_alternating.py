"""Servers loaded in turns (`fundwall.bench.http.load_alternating`): the slices of a phase
carry on where the server's last slice stopped, with new ids, and sum to the phase."""

from __future__ import annotations

from pathlib import Path

from fundwall.bench.http import ROUNDS, HttpLoad, _slice, _steps, _Total
from fundwall.bench.loadgen import Phase

STEPS = _steps(Path("region"), {"301": "key"}, HttpLoad(seconds=8.0))


def test_a_slice_carries_on_after_what_the_server_was_sent_under_ids_of_its_own() -> None:
    _, single, batch = STEPS
    first, third = _slice(single, 0, ROUNDS, 0), _slice(single, 2, ROUNDS, 5_000)
    assert (first.first, third.first) == (single.first, single.first + 5_000)
    assert first.seconds == third.seconds == single.seconds / ROUNDS
    assert first.max_requests * ROUNDS >= single.max_requests
    assert len({single.run, first.run, third.run, _slice(batch, 2, ROUNDS, 0).run}) == 4
    assert _slice(batch, 1, ROUNDS, 3_000).first == batch.first + 3_000


def test_a_server_loaded_alone_takes_its_phases_whole() -> None:
    _, single, batch = STEPS
    assert _slice(single, 0, 1, 0) is single
    assert _slice(batch, 0, 1, 0) is batch


def test_the_slices_sum_to_the_phase() -> None:
    total = _Total()
    total.add(Phase(10, 10, 1.0, 0.1, [1, 2]), 0.5)
    total.add(Phase(30, 30, 2.0, 0.2, [3]), 1.0)
    assert (total.phase.requests, total.phase.transactions) == (40, 40)
    assert total.phase.seconds == 3.0
    assert total.phase.latencies_ns == [1, 2, 3]
    assert total.cpu_seconds == 1.5
    assert round(total.phase.requests_per_s, 6) == round(40 / 3.0, 6)
