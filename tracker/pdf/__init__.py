"""ReportLab builders: plain classes that turn plain data into PDF bytes.

No Flask import and no database access here: a view or CLI command loads the data, hands it
to a builder and decides what to do with the bytes (send, store, hash). Every builder embeds
its fonts (`tracker.pdf.fonts`), takes its page layout from `tracker.pdf.layout` and is
invariant, so the same input gives the same bytes.
"""
