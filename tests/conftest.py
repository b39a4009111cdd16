"""Shared pytest set-up: headless plotting and a fixed seed for every test."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from cnnlib import setup  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    setup(0)
