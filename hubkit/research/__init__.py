"""Research layer: the run database as DataFrames, graphs and findings."""
from hubkit.research.frames import FRAME_COLUMNS, curves, lineage, runs, scores

__all__ = ["FRAME_COLUMNS", "curves", "lineage", "runs", "scores"]
