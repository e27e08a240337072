"""``python -m bench.soak``: the long versions of the connector soak and rate-limit tests.

Runs, each in its own pytest process against its own simulated exchange server, the tests
``make test`` runs for a few seconds, for ten minutes each: the 20-client soak with a kill and
restart of the server halfway (issue 4; RELIABILITY.md T-5), CON-1 (weight limiter at twice the
demand a 6,000/min budget allows) and CON-4 (retry budget under 20 % injected 5xx). The figures
each test measures, and the verdict on each figure of RELIABILITY.md, go into
``bench/SOAK_RESULTS.md``.
"""
