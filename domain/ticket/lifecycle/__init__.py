"""The ticket lifecycle's decisions: who may do what, in which state, and what it produces.

`domain.ticket.decide.decide` is the entry point; this package holds its parts: the rules taken
from the jurisdiction, the event numbering, and the handlers of units' and the control
room's commands.
"""
