"""Check a packing of 12 circles in the unit square and score the sum of its radii.

evaluate(program_path) -> metrics (OpenEvolve's contract): combined_score is the sum of
radii, or 0 with the reason in "error" when the packing is invalid (a circle outside the
square, two circles overlapping). The initial grid scores 1.5.
"""

import importlib.util

import numpy as np

N = 12
TOLERANCE = 1e-9


def _load(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _violation(centres, radii):
    if centres.shape != (N, 2) or radii.shape != (N,):
        return f"expected {N} centres and radii, got shapes {centres.shape} and {radii.shape}"
    if not (np.all(np.isfinite(centres)) and np.all(np.isfinite(radii))) or np.any(radii < 0):
        return "radii must be finite and non-negative"
    inside = (centres - radii[:, None] >= -TOLERANCE) & (centres + radii[:, None] <= 1 + TOLERANCE)
    if not inside.all():
        return f"circle {int(np.argmin(inside.all(axis=1)))} leaves the unit square"
    gaps = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    overlap = gaps - radii[:, None] - radii[None, :] + np.eye(N) * 10
    if overlap.min() < -TOLERANCE:
        i, j = np.unravel_index(int(np.argmin(overlap)), overlap.shape)
        return f"circles {i} and {j} overlap"
    return None


def evaluate(program_path):
    centres, radii, _ = _load(program_path).run_packing()
    centres, radii = np.asarray(centres, dtype=float), np.asarray(radii, dtype=float)
    why = _violation(centres, radii)
    if why is not None:
        return {"combined_score": 0.0, "validity": 0.0, "sum_radii": 0.0, "error": why}
    total = float(np.sum(radii))
    return {"combined_score": total, "validity": 1.0, "sum_radii": total,
            "min_radius": float(radii.min())}
