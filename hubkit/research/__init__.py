"""Research layer: the run database as DataFrames, graphs and findings.

``runs()``, ``scores()``, ``curves()``, ``lineage()`` are the frames;
``museum``, ``genealogy`` and ``emergence`` are the studies; ``export()``
writes the publishable data set; ``data_dictionary()`` describes every column.
"""
from hubkit.research.dictionary import data_dictionary
from hubkit.research.export import export
from hubkit.research.frames import FRAME_COLUMNS, curves, lineage, runs, scores

__all__ = ["FRAME_COLUMNS", "curves", "data_dictionary", "export", "lineage", "runs", "scores"]
