"""Ray runtime: sampler and evaluator actors, and the loop in the driver that keeps them busy."""
