"""Planning: how a compiled program (a SignalGraph) is evaluated, decided in one place and as plain data.

    units.py       nodes and feedback loops as the units of evaluation, their levels and costs
    feedback.py    how each feedback loop is stepped (steps no longer than its shortest delay)
    lanes.py       which chains of nodes run side by side in SIMD lanes
    partition.py   parts per output and dependency stage, assigned to workers by cost
    schedule.py    one part's arena rows and the stages that fill them, in order
    spread.py      the parts' schedules over one row layout, and the rows that cross between parts
    cost_model.py  the predicted time per block and speedup for any worker count

Nothing here runs code or starts processes: the engine binds stages to kernels (engine/binding.py) and
evaluates them (engine/executor.py); the worker runtime moves what crosses (workers/ensemble.py)."""
