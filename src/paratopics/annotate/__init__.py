"""Annotating in a labeling tool: tasks out, the tool's config, judgements back in.

`select` chooses which paragraphs are worth a person's time, `label_studio`
knows Label Studio's shapes (labeling config, tasks, predictions, exports) and
nothing about the corpus, and `importer` turns an export into annotation lines
only when every judgement in it is valid.
"""
