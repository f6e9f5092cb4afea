"""A release as a Hub-ready folder: card, Croissant, guide, push.

Kept free of imports: `datasets` takes a second to import.
"""
