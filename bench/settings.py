"""Settings for the benchmark: production settings plus the two reference routes (bench/urls.py)."""

from oneonone.settings import *  # noqa: F403

# The figures are for the production configuration; debug mode would also record every query.
DEBUG = False
ROOT_URLCONF = "bench.urls"
