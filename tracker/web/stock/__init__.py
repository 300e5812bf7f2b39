"""Stock checks (棚卸) and missing or lost cards (所在調査中・紛失), issue 13."""
