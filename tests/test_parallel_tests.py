"""The suite runs in parallel (`-n auto` in setup.cfg): one test process per core, never more than 4."""

from __future__ import annotations

import os

import pytest

import conftest


@pytest.mark.parametrize("cores, processes", [(1, 1), (2, 2), (4, 4), (64, 4)])
def test_one_test_process_per_usable_core_and_at_most_four(monkeypatch, cores, processes):
    # Each process imports TensorFlow, whose training tests use every core: past 4 they add memory, not speed.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert conftest.pytest_xdist_auto_num_workers(config=None) == processes
