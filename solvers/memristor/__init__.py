"""Memristor analysis and the reduced model (pure numpy; no dolfinx in these modules).

- loops.py          cycles of a periodic drive, lobes and their signed areas (shoelace),
                    pinch ratio, crossing type (bipolar/unipolar), G(V) loops, ``loop_metrics``
- sweep.py          the loop-area maximum over a frequency sweep and the memory time it gives
                    (tau = k / (2 pi f_peak), k from the g_inf shape or calibrated on the model)
- steps.py          exponential fits of G(t) = I/V after voltage steps: tau and G_inf per level
- reduced_model.py  ``ReducedMemristor``: tau(V) dg/dt = g_inf(V) - g, I = g V; simulation and
                    the ``reduced_model.json`` format
- spice.py          ngspice behavioural subcircuit ``memristor.cir`` and batch-run helpers

All quantities are SI: time in s, voltage in V, current in A, conductance in S, loop areas in
V*A = W.
"""

from .loops import (
    Cycle,
    classify_crossing,
    conductance_loop,
    cycle_metrics,
    decompose_loop,
    extract_cycle,
    lobes,
    loop_metrics,
    shoelace_area,
    split_cycles,
    zero_crossings,
)
from .reduced_model import (
    ReducedMemristor,
    g_inf_from_slow_sweep,
    read_reduced_model,
    write_reduced_model,
)
from .spice import (
    find_ngspice,
    ngspice_sine_response,
    run_ngspice,
    subcircuit_netlist,
    write_subcircuit,
)
from .steps import StepFit, fit_exponential, plateaus, step_levels, step_responses
from .sweep import (
    SHAPE_FACTORS,
    MemoryTime,
    memory_time_factor,
    memory_time_from_sweep,
    model_area_curve,
    model_peak_frequency,
    peak_frequency,
)

__all__ = [
    "SHAPE_FACTORS", "Cycle", "MemoryTime", "ReducedMemristor", "StepFit", "classify_crossing",
    "conductance_loop", "cycle_metrics", "decompose_loop", "extract_cycle", "find_ngspice",
    "fit_exponential", "g_inf_from_slow_sweep", "lobes", "loop_metrics", "memory_time_factor",
    "memory_time_from_sweep", "model_area_curve", "model_peak_frequency",
    "ngspice_sine_response", "peak_frequency", "plateaus", "read_reduced_model", "run_ngspice",
    "shoelace_area", "split_cycles", "step_levels", "step_responses", "subcircuit_netlist",
    "write_reduced_model", "write_subcircuit", "zero_crossings",
]
