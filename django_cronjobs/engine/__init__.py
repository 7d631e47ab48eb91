"""The tick: ``runner.Runner`` sequences its phases; the other modules each carry one of them
(batches of quick runs, one run's execution, child processes, runs side by side, task
backends, the heartbeat, interruption, recovery of dead runs, the clock guard)."""
