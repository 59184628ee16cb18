"""Placing the guest's own import finders on ``sys.meta_path``."""

import importlib.machinery
import sys


def insert_before_path_finder(finder):
    """Put ``finder`` on ``sys.meta_path`` just before the path finder (so
    it answers before anything on ``sys.path`` is searched, after the
    built-in and frozen importers), once; at the end when there is no path
    finder."""
    if finder in sys.meta_path:
        return
    try:
        at = sys.meta_path.index(importlib.machinery.PathFinder)
    except ValueError:
        at = len(sys.meta_path)
    sys.meta_path.insert(at, finder)
