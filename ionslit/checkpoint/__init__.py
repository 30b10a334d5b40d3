"""Checkpoint/restart of runs (``ionslit run CASE --restart DIR``).

File format: ``DIR/checkpoint/state.npz``, one NumPy ``.npz`` archive (uncompressed zip of
``.npy`` arrays) written by rank 0 under a temporary name and renamed into place, so a crash
while writing leaves the previous checkpoint intact. Its ``meta`` entry is UTF-8 JSON:

- ``format`` "ionslit-checkpoint", ``version`` 1, ``meta``: what was written when (time, step,
  reason, segment, ranks, ionslit version), the case identity (``case``: SHA-256 of the resolved
  SI parameters, see ``ionslit.checkpoint.identity``) and the mesh fingerprint (node/cell counts
  and a SHA-256 of the node coordinates in input order);
- ``slits``: per slit name, the model's state (ionslit.solvers.checkpoint.capture_model):
  scalars in the JSON, fields as arrays ``slit/<name>/<field>`` of shape (input nodes,
  components) ordered by the mesh's input node index, so a restart may use another number of
  ranks;
- ``state``: any nested structure of dicts/lists/numbers/arrays (arrays as ``state/<n>``): the
  series rows so far and, for a slit run (meta ``run`` "slit"), the integrator state and the
  field files written so far; for a neuron run (``run`` "neuron", ``CircuitCheckpointer``) the
  phase, ``CircuitIntegrator.state()`` (voltage, time, step size and history, providers, spike
  detector) and the finished analyses, its live slits under ``slits`` by branch name (meta
  ``meshes``: their fingerprints).

``DIR/checkpoint/checkpoint.json`` repeats the ``meta`` part for people and scripts; only the
``.npz`` is read on restart. Both files are removed when the run finishes ok (a finished run
cannot be continued).

Modules: ``archive`` (the file: write, read, load on all ranks), ``identity`` (what a restart
must match), ``restart`` (the checks before a restart writes anything), ``checkpointers`` (what
the slit and neuron runs write and restore). The schedule and the SIGTERM stop are
``ionslit.run_control``; the field files across checkpoints are ``ionslit.fields``.

A checkpoint does not change the run (no step is shortened, the solver keeps its lagged
Jacobian), and a restart continues it to round-off from any step (ionslit.solvers.checkpoint
restores the lagged Jacobian too).
"""
