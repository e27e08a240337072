"""Settings for the whole suite.

Hypothesis's default 200 ms deadline per example measures the machine more than the code on a
shared 2-core box (a test that takes 80 ms alone took 341 ms under load): the suite runs without
it. Speed is shown by the benchmarks in ``bench/``, never by timed tests.
"""

from hypothesis import settings

settings.register_profile("tradeforge", deadline=None)
settings.load_profile("tradeforge")
