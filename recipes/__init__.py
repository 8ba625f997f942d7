"""Runnable training recipes, one literate script per task.

Run one with ``python -m recipes.<name>``; ``--help`` lists its flags.
"""
