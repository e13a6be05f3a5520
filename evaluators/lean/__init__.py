"""Lean 4 proofs: one verifier (closed set of outcomes) shared by the proof search,
`evoforge verify-lean` and the tests; a client for leanprover-community/repl underneath.

Modules, one job each: `outcome` (what a check can end in), `lean_text` (Lean text
without Lean: comments, tokens, statements), `task` (what is asked and what a candidate
offers), `rules` (acceptance rules), `discovery` (where Lean lives), `repl_process` /
`repl_pool` (the REPL's JSON protocol, processes keyed by header), `repl_verifier`
(the verifier), `leandojo` (optional adapter), `problem` / `proof_evaluator` (the
`lean_proof` candidate kind).
"""
