"""Lanes split over MPI ranks (``comm`` of the analyses): contiguous blocks in rank order,
results gathered to every rank equal to the one-rank results bit for bit, failures raised on
every rank. The serial tests play one rank of a job with a stand-in communicator; the ``mpi``
test runs on the ranks of ``mpirun``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from cli_helpers import CASES
from coupling_toys import ScalarMemristor

from ionslit.coupling import (
    Branch,
    Circuit,
    Constant,
    IntegrationError,
    IntegratorOptions,
    fi_curve,
    simulate_lanes,
)
from ionslit.coupling.analysis import lane_block

OPTIONS = IntegratorOptions(rtol=1e-4, atol=1e-6)
STIMULI = np.array([0.02e-9, 0.05e-9, 0.1e-9, 0.3e-9, 0.6e-9, 1e-9, 3e-9])  # A


@pytest.fixture(scope="module")
def neuron():
    """The two-memristor neuron of cases/neuron_reduced.toml, at rest (built as ``ionslit
    run`` builds it)."""
    from ionslit.case import load_case
    from ionslit.neuron_study import build_circuit

    return build_circuit(load_case(CASES / "neuron_reduced.toml").case.circuit)


class OneRank:
    """Rank ``rank`` of a job of ``size`` ranks; ``allgather`` returns what the other ranks
    contributed (``others``: rank -> object, default: nothing done, no failure)."""

    def __init__(self, rank: int, size: int, others: dict | None = None):
        self.rank, self.size = rank, size
        self.others = others or {}
        self.gathered = []

    def allgather(self, obj):
        self.gathered.append(obj)
        return [obj if r == self.rank else self.others.get(r, ([], None))
                for r in range(self.size)]


def same_runs(a, b) -> bool:
    return len(a) == len(b) and all(
        x.amplitude == y.amplitude and x.final_voltage == y.final_voltage
        and np.array_equal(x.spike_times, y.spike_times)
        and np.array_equal(x.spike_peaks, y.spike_peaks) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("count", [0, 1, 5, 7, 64])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_lane_blocks_cover_the_lanes_in_rank_order(count, size):
    blocks = [lane_block(count, size, rank) for rank in range(size)]
    assert [i for b in blocks for i in range(count)[b]] == list(range(count))
    sizes = [b.stop - b.start for b in blocks]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError, match="rank"):
        lane_block(count, size, size)


def test_each_rank_runs_its_block_and_the_gathered_runs_equal_one_rank(neuron):
    whole = simulate_lanes(neuron, STIMULI, Constant, 0.01, OPTIONS)
    blocks, chunks = [], []

    def make(amplitudes):
        chunks.append(amplitudes.size)
        return Constant(amplitudes)

    for rank in range(3):  # each rank alone, the others' contributions left empty
        blocks.append(simulate_lanes(neuron, STIMULI, make, 0.01, OPTIONS,
                                     comm=OneRank(rank, 3)))
    assert chunks == [3, 2, 2]  # one integrator per rank, with its block's lanes
    assert same_runs([r for block in blocks for r in block], whole)
    # rank 1 with the others' blocks: every rank returns the whole, in stimulus order
    rank = OneRank(1, 3, {0: (blocks[0], None), 2: (blocks[2], None)})
    assert same_runs(simulate_lanes(neuron, STIMULI, Constant, 0.01, OPTIONS,
                                    comm=rank), whole)
    curve = fi_curve(neuron, STIMULI, 0.01, 0.0, OPTIONS, comm=OneRank(0, 1))
    np.testing.assert_array_equal(curve.stimulus_A, STIMULI)


def test_a_failure_on_any_rank_is_raised_on_every_rank(neuron):
    failure = pickle.dumps(IntegrationError("lane 0: step failed"))
    with pytest.raises(IntegrationError, match="step failed") as raised:
        simulate_lanes(neuron, STIMULI, Constant, 0.01, OPTIONS,
                       comm=OneRank(0, 2, {1: (None, failure)}))
    assert "raised on MPI rank 1 of 2" in "".join(raised.value.__notes__)

    def broken(amplitudes):
        raise ValueError("no stimulus")

    rank = OneRank(1, 2)
    with pytest.raises(ValueError, match="no stimulus"):
        simulate_lanes(neuron, STIMULI, broken, 0.01, OPTIONS, comm=rank)
    assert len(rank.gathered) == 1  # it joined the gather first: no rank is left waiting
    assert rank.gathered[0][0] is None and rank.gathered[0][1] is not None


def test_scalar_providers_are_not_split():
    """A live slit is one collective solve over the ranks: every rank runs every amplitude."""
    circuit = Circuit(10e-12, [Branch(ScalarMemristor(), -0.07, 1, "slit")], Constant(0.0))
    rank = OneRank(1, 2)
    runs = simulate_lanes(circuit, [1e-9, 2e-9], Constant, 1e-3, OPTIONS, comm=rank)
    assert [r.amplitude for r in runs] == [1e-9, 2e-9] and rank.gathered == []


@pytest.mark.mpi
def test_split_over_the_ranks_equals_one_rank(neuron):
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    alone = simulate_lanes(neuron, STIMULI, Constant, 0.01, OPTIONS)
    sizes = []

    def make(amplitudes):
        sizes.append(amplitudes.size)
        return Constant(amplitudes)

    split = simulate_lanes(neuron, STIMULI, make, 0.01, OPTIONS, comm=world)
    assert sizes == [lane_block(STIMULI.size, world.size, world.rank).stop
                     - lane_block(STIMULI.size, world.size, world.rank).start]
    assert same_runs(split, alone)

    def fails_on_the_last_rank(amplitudes):
        if world.rank == world.size - 1:
            raise ValueError("no stimulus here")
        return Constant(amplitudes)

    with pytest.raises(ValueError, match="no stimulus here"):
        simulate_lanes(neuron, STIMULI, fails_on_the_last_rank, 0.01, OPTIONS, comm=world)
