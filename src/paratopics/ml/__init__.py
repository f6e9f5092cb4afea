"""Baseline model, evaluation and annotation reports.

Kept free of imports: scikit-learn is imported only when a model is trained or scored.
"""
