"""What people and monitors see and do: where each job stands, recent runs, the health
endpoint, pause, resume and run-now, and the mails about failure streaks."""
