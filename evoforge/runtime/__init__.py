"""Ray runtime: the database actor, the sampler and evaluator pools, and the loop that keeps them busy."""
