"""``scripts/bench``: tracker measured beside baselines on the same data (issue 18).

One run: synthetic returns from ``scripts/gen-returns`` (:mod:`tracker.synthetic`), loaded by
``tracker import`` (itself the import measure), then every key of docs/performance.md, each
beside its baseline in the same run and on the same data, interleaved, ``--repeat`` rounds,
median. Modules: :mod:`.cli` the command line and the table, :mod:`.run` the measures,
:mod:`.env` the databases, :mod:`.http` the server and the setup client, :mod:`.load` the
load generator (a process of its own), :mod:`.child` work measured in a process of its own
(peak memory), :mod:`.server` ``tracker serve`` with the trivial route, :mod:`.stats` median
and percentiles.
"""
