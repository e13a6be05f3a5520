"""Neural PDE surrogates as fast evaluators, and the exact solvers they stand in for.

`burgers` and `heat` are the exact scorers of the `burgers_control` and
`heat_spreader` problems; `physics` puts one interface over them; `model`,
`data`, `training` and `build` make a problem's Fourier Neural Operator
(data and checkpoints in the user's cache, `store`); `screens`, `cascade` and
`fidelity` are what the `surrogate_program` evaluator uses to screen
candidates and to say how far the screen can be trusted.
"""
