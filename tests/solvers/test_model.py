"""PNPModel basics: exact ohmic channels in every coordinate system, current conservation,
formulations, the current clamp, outputs, and failure handling."""

import math

import numpy as np
import pytest
from mpi4py import MPI
from solver_helpers import kcl, uniform_interval

from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    FieldOutput,
    PNPModel,
    SolverDivergedError,
    SolverOptions,
    Species,
    SurfaceCharge,
    SurfacePotential,
)


def channel_area(coordinates, height, width=None, depth=1.0):
    if coordinates == "planar":
        return height * depth
    if coordinates == "axisymmetric":
        return math.pi * height**2
    return height * width


@pytest.mark.mpi
@pytest.mark.parametrize("coordinates", ["interval", "planar", "axisymmetric", "3d"])
def test_uncharged_channel_is_exactly_ohmic(comm, coordinates):
    """Uniform c and linear phi solve PNP exactly (also far from equilibrium), and P1 represents
    them exactly, so G = kappa A / L to round-off: checks every scale factor (depth, 2 pi r)."""
    L, h, w = 30e-9, 6e-9, 4e-9
    el = kcl(10.0)
    if coordinates == "interval":
        mesh = uniform_interval(comm, L, 12, area=2.5e-17)
        area = 2.5e-17
    else:
        n = [8, 4, 3] if coordinates == "3d" else [10, 4]
        mesh = structured.channel(comm, L, h, n, coordinates=coordinates, width=w,
                                       depth=3e-9)
        area = channel_area(coordinates, h, w, depth=3e-9)
    model = PNPModel(mesh, el, Boundary())
    result = model.solve_steady(0.2)  # 7.8 V_T: nonlinear regime, still exact
    expected = el.conductivity("left") * area / L
    # measured within 3e-14 (3d), I_left vs I_right 6e-14, amount 2e-16: round-off, which
    # differs between processors' LU/BLAS. Bounds: Newton's relative tolerance, 1e-8
    assert result.current / 0.2 == pytest.approx(expected, rel=1e-8)
    assert result.current_right == pytest.approx(result.current, rel=1e-8)
    row = model.observables.series_row()
    assert row["conductance_S"] == pytest.approx(expected, rel=1e-8)
    assert row["amount_K_mol"] == pytest.approx(10.0 * area * L, rel=1e-8)


def test_multivalent_channel_is_exactly_ohmic(comm):
    """2:1 electrolyte (CaCl2): kappa = (F^2 / R T) sum z^2 D c with z = 2 for Ca."""
    el = Electrolyte((Species("Ca", 2, 0.792e-9, 5.0, 5.0),
                      Species("Cl", -1, 2.032e-9, 10.0, 10.0)))
    mesh = structured.channel(comm, 30e-9, 6e-9, [10, 4])
    model = PNPModel(mesh, el, Boundary())
    result = model.solve_steady(0.1)
    expected = el.conductivity("left") * 6e-9 / 30e-9
    assert expected == pytest.approx(96485.33212**2 / (8.314462618 * 298.15) * (
        4 * 0.792e-9 * 5.0 + 2.032e-9 * 10.0) * 6e-9 / 30e-9, rel=1e-9)
    assert result.current / 0.1 == pytest.approx(expected, rel=1e-8)  # as above


@pytest.mark.mpi
def test_left_and_right_currents_agree_at_steady_state(small_slit):
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.02),
                               "slit_wall_bottom": SurfaceCharge(-0.01)})
    model = PNPModel(small_slit, kcl(10.0), boundary)
    result = model.solve_steady(0.1)
    # Conservative currents: the discrete ionic fluxes balance to the Newton tolerance (1e-8
    # relative; measured 6e-16).
    assert abs(result.current - result.current_right) < 1e-8 * abs(result.current)
    c = model.last_currents
    assert c["ionic_current_A"] == pytest.approx(c["current_A"], rel=1e-14)


def test_log_and_primitive_formulations_agree(small_slit):
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.005),
                               "slit_wall_bottom": SurfaceCharge(-0.005)})
    currents = {}
    for name in ("log", "primitive"):
        model = PNPModel(small_slit, kcl(10.0), boundary, SolverOptions(formulation=name))
        currents[name] = model.solve_steady(0.05).current
    # Different discretisations (P1 in ln c vs in c) of the same problem: they agree to the
    # discretisation error, ~1e-3 on this mesh.
    assert currents["log"] == pytest.approx(currents["primitive"], rel=3e-3)


@pytest.mark.mpi
def test_current_clamp_matches_voltage_mode(small_slit):
    el = kcl(10.0, left=10.0, right=2.0)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.02),
                               "slit_wall_bottom": SurfaceCharge(-0.02)})
    model = PNPModel(small_slit, el, boundary)
    free = model.solve_steady_clamped(0.0)
    # the clamp row is met to Newton's absolute tolerance, 1e-10 in units of current_scale
    # (measured 3e-15 of it: round-off)
    assert abs(free.current) < 1e-10 * model.observables.current_scale
    # A cation-selective slit: V_left - V_right -> V_T ln(c_right / c_left) = -41.3 mV for a
    # perfectly selective one; this one (Dukhin ~5) is close to it.
    nernst = el.thermal_voltage * math.log(2.0 / 10.0)
    assert nernst < free.voltage < 0.8 * nernst
    # Voltage mode at the clamped potential gives zero current again.
    check = model.solve_steady(free.voltage)
    assert abs(check.current) < 1e-9 * model.observables.current_scale
    # A nonzero clamp: the potential that drives that current.
    target = 5 * model.observables.current_scale
    clamped = model.solve_steady_clamped(target)
    assert clamped.current == pytest.approx(target, rel=1e-9)
    again = model.solve_steady(clamped.voltage)
    assert again.current == pytest.approx(target, rel=1e-7)


@pytest.mark.mpi
def test_outputs_profiles_and_inventories(small_slit):
    el = kcl(10.0)
    model = PNPModel(small_slit, el, Boundary())
    model.solve_steady(0.05)
    fields = FieldOutput(model)
    potential, c_k, c_cl = fields.update()
    assert potential.name == "potential" and c_k.name == "c_K"
    lo = model.comm.allreduce(potential.x.array.min(), op=MPI.MIN)
    hi = model.comm.allreduce(potential.x.array.max(), op=MPI.MAX)
    assert lo == pytest.approx(0.0, abs=1e-14) and hi == pytest.approx(0.05, rel=1e-12)
    # uniform c solves this uncharged case exactly: concentrations, amounts and means are
    # bounded by Newton's relative tolerance, 1e-8 (measured: round-off)
    assert model.comm.allreduce(np.abs(c_k.x.array - 10.0).max(), op=MPI.MAX) < 1e-8 * 10.0
    # Profile along the axis, from electrode to electrode, plus a point inside the wall.
    prof = model.observables.line_profile([-20e-9, 0.0], [60e-9, 0.0], 81)
    # End points lie exactly on the electrodes (point location there is good to ~1e-5).
    assert prof["potential"][0] == pytest.approx(0.05, rel=1e-4)
    assert prof["potential"][-1] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(prof["potential"]) < 0)
    assert prof["distance"][-1] == pytest.approx(80e-9)
    assert np.allclose(prof["c_K"], 10.0, rtol=1e-8)
    outside = model.observables.evaluate([[20e-9, 10e-9]])  # in the solid above the slit
    assert np.isnan(outside["potential"][0])
    inv = model.observables.inventories("slit")
    volume = 40e-9 * 4e-9 * 1.0
    assert inv["amount_K_mol"] == pytest.approx(10.0 * volume, rel=1e-8)
    assert inv["mean_concentration_Cl_mol_m3"] == pytest.approx(10.0, rel=1e-8)
    assert model.observables.region_volume("slit") == pytest.approx(volume, rel=1e-12)


def test_divergence_raises_with_the_snes_reason(small_slit):
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.05),
                               "slit_wall_bottom": SurfaceCharge(-0.05)})
    options = SolverOptions(petsc_options={"snes_max_it": 1, "snes_rtol": 1e-14,
                                           "snes_atol": 1e-30, "snes_stol": 0},
                            max_continuation_cutbacks=0)
    model = PNPModel(small_slit, kcl(10.0), boundary, options)
    with pytest.raises(SolverDivergedError) as info:
        model.solve_steady(0.1)
    assert info.value.reason == "DIVERGED_MAX_IT"
    assert "continuation" in str(info.value) and info.value.iterations == 1
    # Nothing that looks like a result: the state went back to the last good one.
    assert np.all(np.isfinite(model.state.x.array))


def test_failed_factorisation_does_not_stick(comm):
    """A singular Jacobian (c = 0 exactly) makes MUMPS fail; after the reset the next solve
    works (without the reset it fails with a PETSc error, see docs/theory.md#nonlinear-solves)."""
    model = PNPModel(uniform_interval(comm), kcl(10.0), Boundary())
    model.solve_steady(0.05)
    good = model.state.x.array.copy()
    model.state.x.array[model.field_dofs[1]] = -800.0  # exp(-800) == 0: zero rows
    with pytest.raises(SolverDivergedError) as info:
        model.solver.solve()
    assert info.value.reason == "DIVERGED_LINEAR_SOLVE"
    model.state.x.array[:] = good
    model.state.x.array[model.field_dofs[1][3]] += 0.2
    report = model.solver.solve()
    assert report.reason.startswith("CONVERGED") and report.iterations <= 5


def test_unknown_groups_and_bad_inputs_are_reported(small_slit):
    with pytest.raises(ValueError, match="not in the mesh"):
        PNPModel(small_slit, kcl(1.0), Boundary(walls={"nowhere": SurfaceCharge(-0.01)}))
    with pytest.raises(ValueError, match="overlap"):
        PNPModel(small_slit, kcl(1.0), Boundary(walls={"walls": SurfaceCharge(-0.01),
                                                      "slit_wall_top": SurfaceCharge(-0.02)}))
    with pytest.raises(ValueError, match="touches an electrode"):
        PNPModel(small_slit, kcl(1.0), Boundary(walls={"walls": SurfacePotential(-0.05)}))
    with pytest.raises(ValueError, match="driven"):
        PNPModel(small_slit, kcl(1.0), Boundary(left=None)).solve_steady(0.1)
    with pytest.raises(ValueError, match="log formulation"):
        PNPModel(small_slit, kcl(0.0, left=0.0, right=0.0), Boundary(),
                 SolverOptions(concentration_scale=1.0))
    model = PNPModel(small_slit, kcl(1.0), Boundary())
    with pytest.raises(RuntimeError, match="steady"):
        model.try_step(1e-9, 0.0)


@pytest.mark.mpi
def test_all_fields_share_the_p1_numbering(small_slit):
    """observables/FieldOutput store every field on the space collapsed from field 0: all
    collapsed sub-spaces must number their dofs identically (checked, not assumed)."""
    el = kcl(10.0)
    model = PNPModel(small_slit, el, Boundary())
    reference = model.scalar_space.tabulate_dof_coordinates()
    for k in range(1, 1 + len(el.species)):
        space, dofs = model.space.sub(k).collapse()
        assert np.array_equal(space.tabulate_dof_coordinates(), reference)
        assert np.array_equal(np.concatenate(dofs), model.field_dofs[k])


@pytest.mark.mpi
def test_model_closes_its_solvers(comm):
    """``with PNPModel(...)`` destroys the Newton solvers the model built (voltage mode and
    clamp); ``built_solvers`` lists them while they live; a later solve builds new ones."""
    mesh = structured.channel(comm, 30e-9, 6e-9, [10, 4])
    with PNPModel(mesh, kcl(10.0), Boundary()) as model:
        first = model.solve_steady(0.05).current
        model.solve_steady_clamped(0.0)
        built = model.built_solvers
        assert sorted(built) == ["clamp", "pnp"]
    assert model.built_solvers == {}
    assert all(solver.snes.handle == 0 for solver in built.values())
    assert model.solve_steady(0.05).current == pytest.approx(first, rel=1e-8)
    model.close()
