"""Verbs that change state. Each takes an explicit actor, flushes and writes its audit event in
the caller's transaction; none of them commits (the request or CLI command does, once)."""
