"""Transient behaviour of the PNP model: total-current conservation with the displacement
current, the current clamp in time, restarts after jumps, and XDMF output of the SI fields."""

import dolfinx
import numpy as np
import pytest
from solver_helpers import kcl

from ionslit.solvers import (
    Boundary,
    ClampedCurrent,
    FieldOutput,
    PNPModel,
    PulseTrain,
    SineVoltage,
    StepVoltage,
    SurfaceCharge,
    TimeIntegrator,
    TimeSteppingOptions,
)


def charged(small_slit, el=None):
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.02),
                               "slit_wall_bottom": SurfaceCharge(-0.02)})
    return PNPModel(small_slit, el or kcl(10.0), boundary)


@pytest.mark.mpi
def test_total_current_is_conserved_in_transients(small_slit):
    """Left and right *total* currents (ionic + dQ/dt of the electrode) agree at every step;
    the ionic currents alone do not (charge builds up in the double layers)."""
    model = charged(small_slit)
    records = TimeIntegrator(model, SineVoltage(0.1, 2e7), TimeSteppingOptions(
        initial_step=2.5e-10, adaptive=False)).run(2.5e-8)
    assert len(records) == 100
    total = np.array([[r.current, r.current_right] for r in records])
    scale = np.max(np.abs(total))
    # Exact up to the interior residual, i.e. the Newton tolerance (rtol 1e-8): measured 3e-8.
    assert np.max(np.abs(total[:, 0] - total[:, 1])) < 1e-6 * scale
    c = model.last_currents
    assert abs(c["ionic_current_A"] - c["ionic_current_right_A"]) > 1e-4 * scale  # 4e-4


@pytest.mark.mpi
def test_current_clamp_in_time(small_slit):
    """Constant current through a cation-selective slit: the clamp holds the current at every
    step while the voltage drifts as concentration polarisation builds up."""
    model = charged(small_slit)
    scale = model.observables.current_scale
    model.solve_steady_clamped(0.0)
    model.clamp_current(3 * scale)
    voltages = []
    for _ in range(6):
        current = model.try_step(2e-9)
        model.accept()
        voltages.append(model.voltage)
        assert current == pytest.approx(3 * scale, rel=1e-6)  # Newton tolerance 1e-8
    assert np.all(np.diff(voltages) != 0) and voltages[0] > 0
    assert model.time == pytest.approx(1.2e-8)


@pytest.mark.mpi
def test_step_restarts_bdf2_and_hits_the_jump(small_slit):
    model = charged(small_slit)
    step = StepVoltage(0.0, 0.05, time=1e-9)
    records = TimeIntegrator(model, step, TimeSteppingOptions(initial_step=3e-10)).run(4e-9)
    times = [r.time for r in records]
    assert 1e-9 in times and times[-1] == 4e-9
    after = records[times.index(1e-9) + 1]
    assert after.voltage == 0.05 and records[times.index(1e-9)].voltage == 0.0


@pytest.mark.mpi
def test_xdmf_output_of_si_fields(small_slit, tmp_path):
    import h5py

    comm = small_slit.mesh.comm
    path = comm.bcast(str(tmp_path / "fields.xdmf") if comm.rank == 0 else None, root=0)
    model = charged(small_slit)
    fields = FieldOutput(model)
    with dolfinx.io.XDMFFile(comm, path, "w") as xdmf:
        xdmf.write_mesh(model.mesh)
        for time, voltage in ((0.0, 0.0), (1.0, 0.04)):
            model.solve_steady(voltage)
            for f in fields.update():
                xdmf.write_function(f, time)
    comm.Barrier()
    if comm.rank == 0:
        with h5py.File(path.replace(".xdmf", ".h5"), "r") as h5:
            phi = [np.asarray(v) for k, v in sorted(h5["Function/potential"].items())]
            c_k = [np.asarray(v) for k, v in sorted(h5["Function/c_K"].items())]
        assert np.max(phi[-1]) == pytest.approx(0.04, rel=1e-10)  # volts
        assert np.max(c_k[0]) > 10.0 and np.min(c_k[0]) > 0  # mol/m^3, counter-ion excess


def test_snapshot_and_restore_replay_a_step_exactly(small_slit):
    model = charged(small_slit)
    model.solve_steady(0.02)
    model.try_step(1e-9, 0.03)
    model.accept()
    saved = model.snapshot()
    first = model.try_step(1e-9, 0.05)
    model.accept()
    model.try_step(2e-9, -0.05)  # wander off, then come back
    model.accept()
    model.restore(saved)
    assert model.time == pytest.approx(1e-9)
    again = model.try_step(1e-9, 0.05)
    assert again == pytest.approx(first, rel=1e-9)


@pytest.mark.mpi
def test_current_protocol_drives_the_clamp(small_slit):
    """A current pulse through the integrator: the clamp follows I(t), the pulse edges are hit
    exactly, and the potential responds (and relaxes back towards the zero-current value)."""
    model = charged(small_slit, kcl(10.0, left=10.0, right=2.0))
    scale = model.observables.current_scale
    pulse = ClampedCurrent(PulseTrain(0.0, 4 * scale, width=5e-9, period=20e-9, delay=2e-9,
                                      count=1))
    records = TimeIntegrator(model, pulse, TimeSteppingOptions(initial_step=5e-10)).run(1.5e-8)
    times = [r.time for r in records]
    assert 2e-9 in times and 7e-9 in times
    for r in records:  # held to the Newton tolerance (rtol 1e-8): measured <= 1e-8 relative
        assert r.current == pytest.approx(pulse.current(r.time), rel=1e-6, abs=1e-6 * scale)
    during = [r.voltage for r in records if 2e-9 < r.time <= 7e-9]
    before = [r.voltage for r in records if r.time <= 2e-9]
    assert min(during) > max(before)  # positive current: higher driving potential
    assert model.clamped
