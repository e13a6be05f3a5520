"""Evaluators: turn a candidate into per-input scores.

Programs today; expressions, Lean proofs and surrogate cascades plug in here.
"""
