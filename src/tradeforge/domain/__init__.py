"""Pure domain model: identifiers, exact values, instruments, orders, positions, accounts, messages.

No I/O, no wall clock, no framework: everything here is plain data and rules.
"""
