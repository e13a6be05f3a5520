"""Neural physics surrogates used as fast evaluators (not built yet: see the design card)."""
