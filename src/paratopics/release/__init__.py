"""Versioned Parquet releases: rows, judgements, shards, manifest, changelog, verify, diff.

Kept free of imports: pyarrow is imported only by the commands that need it.
"""
