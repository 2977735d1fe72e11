"""`make chaos`: a fault schedule against a live stack under steady load, then exact outcomes.

`schedule` plans the faults (pure), `stack` runs the stack and restarts what stops on its own,
`faults` performs each fault and times it, `run` puts them together and asks `audit` what
was lost, doubled or late; `report` writes bench/chaos.json and RELIABILITY.md's table.
"""
