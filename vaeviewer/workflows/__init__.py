"""The verbs the command line and the window share: inspect, reconstruct, evaluate.

Qt-free. Each returns plain data (dicts, numpy arrays, frozen dataclasses);
the caller decides how to show it.
"""
