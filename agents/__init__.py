"""LLM agents: backends, prompt building, candidate parsing, sampler actors."""
