"""Evaluators: turn a candidate into per-input scores (programs today; expressions, Lean proofs and surrogate cascades plug in here)."""
