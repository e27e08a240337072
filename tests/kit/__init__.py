"""Test kit: stub factories (``stubs``) and Hypothesis strategies (``strategies``) shared by tests.

Stubs build valid domain objects with sensible defaults; every argument a test cares about is a
keyword, so the test names what matters and leaves the rest to the stub.
"""
