"""Memristor analysis and the reduced model (numpy and ``coupling``; no dolfinx in these modules).

- polygon.py        signed (shoelace) areas, split of a self-crossing loop into simple loops
- cycles.py         zero crossings of the drive and the cycles of a periodic series
- loops.py          lobes and their signed areas, pinch ratio, crossing type
                    (bipolar/unipolar), G(V) loops, ``loop_metrics``
- sweep.py          the loop-area maximum over a frequency sweep and the memory time it gives
                    (tau = k / (2 pi f_peak), k from the g_inf shape or calibrated on the model)
- steps.py          exponential fits of G(t) = I/V after voltage steps: tau and G_inf per level
- reduced_model.py  simulation of tau(V) dg/dt = g_inf(V) - g, I = g V (exponential integrator:
                    ``advance``, ``simulate``, ``periodic_response``, ``sine_cycle``,
                    ``effective_tau``) and ``g_inf_from_slow_sweep``; the model itself and its
                    ``reduced_model.json`` format are ``ionslit.coupling.ReducedModel`` (re-exported
                    here), the object the circuit code reads
- spice.py          ngspice behavioural subcircuit ``memristor.cir`` and batch-run helpers

All quantities are SI: time in s, voltage in V, current in A, conductance in S, loop areas in
V*A = W.
"""

from ionslit.coupling.memristor.cycles import Cycle, extract_cycle, split_cycles, zero_crossings
from ionslit.coupling.memristor.loops import (
    classify_crossing,
    conductance_loop,
    cycle_metrics,
    lobes,
    loop_metrics,
)
from ionslit.coupling.memristor.polygon import decompose_loop, shoelace_area
from ionslit.coupling.memristor.reduced_model import (
    advance,
    effective_tau,
    g_inf_from_slow_sweep,
    periodic_response,
    simulate,
    sine_cycle,
)
from ionslit.coupling.memristor.spice import (
    find_ngspice,
    ngspice_sine_response,
    run_ngspice,
    subcircuit_netlist,
    write_subcircuit,
)
from ionslit.coupling.memristor.steps import StepFit, fit_exponential, plateaus, step_levels, step_responses
from ionslit.coupling.memristor.sweep import (
    SHAPE_FACTORS,
    MemoryTime,
    memory_time_factor,
    memory_time_from_sweep,
    model_area_curve,
    model_peak_frequency,
    peak_frequency,
)
from ionslit.coupling.reduced import ReducedModel

__all__ = [
    "SHAPE_FACTORS", "Cycle", "MemoryTime", "ReducedModel", "StepFit", "advance",
    "classify_crossing", "conductance_loop", "cycle_metrics", "decompose_loop", "effective_tau",
    "extract_cycle", "find_ngspice", "fit_exponential", "g_inf_from_slow_sweep", "lobes",
    "loop_metrics", "memory_time_factor", "memory_time_from_sweep", "model_area_curve",
    "model_peak_frequency", "ngspice_sine_response", "peak_frequency", "periodic_response",
    "plateaus", "run_ngspice", "shoelace_area", "simulate", "sine_cycle", "split_cycles",
    "step_levels", "step_responses", "subcircuit_netlist", "write_subcircuit", "zero_crossings",
]
