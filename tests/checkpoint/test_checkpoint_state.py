"""The pieces of a checkpoint: the file (nested data, atomic writes), nodal fields keyed by the
mesh's input nodes (any number of ranks), and the model state whose restoration continues a
transient exactly (including the lagged Jacobian of chord iterations)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from checkpoint_helpers import CASE, write_case
from mpi4py import MPI

from ionslit import translate
from ionslit.case import load_case
from ionslit.checkpoint.archive import load_checkpoint, pack, save_checkpoint, unpack
from ionslit.fields import SegmentedFieldWriter, combined_xdmf, xdmf_times


def test_nested_state_round_trips():
    state = {"t": np.array([0.5, 1.0]), "levels": 2, "dt": None, "name": "x",
             "pair": (1.5, np.arange(3)), ("u", "K", "left"): -0.25,
             "lists": [[1, 2], {"inner": np.eye(2)}], "nan": float("nan")}
    arrays: dict = {}
    packed = pack(state, arrays, "state")
    out = unpack(packed, arrays)
    assert out["levels"] == 2 and out["dt"] is None and out["name"] == "x"
    assert out[("u", "K", "left")] == -0.25 and isinstance(out["pair"], tuple)
    np.testing.assert_array_equal(out["pair"][1], np.arange(3))
    np.testing.assert_array_equal(out["lists"][1]["inner"], np.eye(2))
    assert np.isnan(out["nan"])


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    if MPI.COMM_WORLD.size > 1:
        pytest.skip("one process")
    path = tmp_path / "checkpoint" / "state.npz"
    save_checkpoint(path, {"time_s": 1.0}, state={"x": np.arange(4.0)})
    before = path.read_bytes()
    with pytest.raises(TypeError):  # something unstorable: nothing is written
        save_checkpoint(path, {"time_s": 2.0}, state={"x": object()})

    def crash(*args):  # a crash between writing the temporary file and renaming it
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_checkpoint(path, {"time_s": 3.0}, state={"x": np.arange(5.0)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.json", "state.npz"]
    loaded = load_checkpoint(path, MPI.COMM_SELF)
    assert loaded.meta["time_s"] == 1.0
    np.testing.assert_array_equal(loaded.state["x"], np.arange(4.0))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("case")
    if MPI.COMM_WORLD.size > 1:
        folder = MPI.COMM_WORLD.bcast(folder, root=0)
    if MPI.COMM_WORLD.rank == 0:
        write_case(folder)
    MPI.COMM_WORLD.barrier()
    return load_case(folder / "case.toml")


def build(loaded):
    from ionslit.slit_study import build_model

    return build_model(loaded, "", MPI.COMM_WORLD)[0]


@pytest.mark.mpi
def test_fields_keyed_by_input_nodes_do_not_depend_on_the_partition(loaded):
    """Gather -> scatter is the identity, and the gathered array (by input node) is the same on
    any number of ranks: here the nodal coordinates, against the mesh's own input order."""
    from ionslit.solvers.checkpoint import mesh_fingerprint, node_layout

    model = build(loaded)
    layout = node_layout(model.space)
    state = model.state
    state.x.array[:] = np.random.default_rng(MPI.COMM_WORLD.rank).random(state.x.array.size)
    state.x.scatter_forward()
    gathered = layout.gather(state.x.array)
    target = np.zeros_like(state.x.array)
    layout.scatter(gathered, target)
    np.testing.assert_array_equal(target, state.x.array)
    # x coordinate of every node as a field: by input index it is in the .msh's order
    scalar = node_layout(model.scalar_space)
    x = model.scalar_space.tabulate_dof_coordinates()[:, 0]
    by_input = scalar.gather(x)
    fingerprint = mesh_fingerprint(model.mesh)
    if MPI.COMM_WORLD.rank == 0:
        assert by_input.shape == (fingerprint["nodes"], 1) and not np.isnan(by_input).any()
        geometry = model.mesh.geometry
        if MPI.COMM_WORLD.size == 1:
            expected = np.empty(fingerprint["nodes"])
            expected[np.asarray(geometry.input_global_indices)] = geometry.x[:, 0]
            np.testing.assert_allclose(by_input[:, 0], expected, rtol=0, atol=1e-20)


@pytest.mark.mpi
def test_restored_model_continues_bitwise_like_the_uninterrupted_one(loaded):
    """Checkpoint at a step where the chord iterations reuse a Jacobian from an earlier step;
    a fresh model restored from it takes the same steps with the same iterations and the same
    currents as the uninterrupted run (to the last bit on 1 rank; on 2, MUMPS's parallel
    factorisation itself varies in the last bits from run to run)."""
    from ionslit.solvers.checkpoint import capture_model, restore_model, track_linearizations
    from ionslit.solvers.time_stepping import TimeIntegrator

    case = loaded.case
    protocol, end = translate.voltage_protocol(case)
    end = end / 4

    def integrator(model):
        return TimeIntegrator(model, protocol, translate.time_stepping_options(case))

    model = build(loaded)
    first = integrator(model)
    first.start(0.0)
    track_linearizations(model)
    saved, rows = {}, []

    def at_boundary(state):
        if state.steps == 17:
            saved["checkpoint"], saved["state"] = capture_model(model), state
        return False

    first.run(end, on_step=lambda r: rows.append((r.time, r.current, r.newton_iterations)),
              start_from_steady=False, at_boundary=at_boundary)
    meta, arrays = saved["checkpoint"]
    assert meta["solvers"]["pnp"]["has_point"]  # a lagged Jacobian was in use
    continued = []
    model2 = build(loaded)
    restore_model(model2, meta, arrays)
    integrator(model2).run(end, on_step=lambda r: continued.append(
        (r.time, r.current, r.newton_iterations)), start_from_steady=False,
        resume=saved["state"])
    expected = rows[17:]
    assert [(t, n) for t, _, n in continued] == [(t, n) for t, _, n in expected]
    currents, reference = (np.array([c for _, c, _ in r]) for r in (continued, expected))
    if MPI.COMM_WORLD.size == 1:
        np.testing.assert_array_equal(currents, reference)
    np.testing.assert_allclose(currents, reference, rtol=1e-12, atol=0)


def test_field_intervals_are_indexed_in_one_xdmf_file(tmp_path):
    """Two intervals between checkpoints, then the index: every time once, data in place."""
    if MPI.COMM_WORLD.size > 1:
        pytest.skip("one process")
    import dolfinx.io
    import dolfinx.mesh

    mesh = dolfinx.mesh.create_unit_square(MPI.COMM_SELF, 2, 2)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    f = dolfinx.fem.Function(V, name="potential")

    class Output:
        potential = f

        def update(self):
            return [f]

    writer = SegmentedFieldWriter(tmp_path, Output(), MPI.COMM_SELF)
    for t in (0.0, 1.0):
        f.x.array[:] = t
        writer.write(t)
    writer.rotate()
    assert writer.state() == {"closed": [{"xdmf": "fields.0.xdmf", "h5": "fields.h5"}],
                              "index": 1}
    for t in (2.0, 3.0):
        f.x.array[:] = t
        writer.write(t)
    writer.close()
    folder = tmp_path / "fields"
    assert xdmf_times(folder / "fields.xdmf") == {"potential": [0.0, 1.0, 2.0, 3.0]}
    with dolfinx.io.XDMFFile(MPI.COMM_SELF, str(folder / "fields.xdmf"), "r") as xdmf:
        assert xdmf.read_mesh(name="mesh").topology.index_map(2).size_global == 8
    assert combined_xdmf(folder, ["fields.0.xdmf", "fields.1.xdmf"]) == \
        (folder / "fields.xdmf").read_text()


def test_case_identity_ignores_text_and_checkpoint_keys(tmp_path):
    from ionslit.checkpoint.identity import case_identity, identity_differences

    first = load_case(write_case(tmp_path, CASE, "a.toml"))
    same = load_case(write_case(tmp_path, "# a comment\n" + CASE.replace('"10 mM"', '"0.01 M"'),
                                "b.toml"), ["output.checkpoint_steps=3",
                                            "solver.continuation_max_steps=50"])
    other = load_case(write_case(tmp_path, CASE, "c.toml"), ["solver.max_step='0.4 ns'"])
    a, b, c = (case_identity(x, "") for x in (first, same, other))
    assert a["text_sha256"] != b["text_sha256"] and identity_differences(a, b) == []
    (problem,) = identity_differences(a, c)
    assert "solver.max_step: 5e-10 -> 4e-10" in problem
    assert identity_differences(a, case_identity(first, "-snes_rtol 1e-9"))
